import { inspect } from "node:util";

/**
 * Polls `check` every `intervalMs` (100 ms unless given) until it resolves true (a rejection counts
 * as false), throwing "`what` within `timeoutMs` ms" once `timeoutMs` has passed, followed by what
 * the last check threw if it threw; `what` may be a function, to say what was seen at that moment.
 */
export async function waitUntil(
  what: string | (() => string),
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let thrown: unknown;
  const attempt = () => {
    thrown = undefined;
    return Promise.resolve()
      .then(check)
      .catch((error: unknown) => {
        thrown = error;
        return false;
      });
  };
  while (!(await attempt())) {
    if (Date.now() > deadline) {
      const last =
        thrown === undefined
          ? ""
          : `; the last check threw: ${thrown instanceof Error ? thrown.message : inspect(thrown)}`;
      throw new Error(`${typeof what === "function" ? what() : what} within ${timeoutMs} ms${last}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
