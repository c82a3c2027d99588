/**
 * Polls `check` every `intervalMs` (100 ms unless given) until it resolves true (a rejection counts
 * as false), throwing "`what` within `timeoutMs` ms" once `timeoutMs` has passed; `what` may be a
 * function, to say what was seen at that moment.
 */
export async function waitUntil(what: string | (() => string), check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await Promise.resolve().then(check).catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${typeof what === "function" ? what() : what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
