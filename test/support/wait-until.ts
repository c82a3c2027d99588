/**
 * Polls `check` every 100 ms until it resolves true (a rejection counts as false), throwing
 * "`what` within `timeoutMs` ms" once `timeoutMs` has passed.
 */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
