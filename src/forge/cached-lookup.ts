/**
 * `lookup` run at most once while it succeeds: every caller shares the first call's promise, and a
 * failed call is forgotten so the next caller tries again (for values that never change while Ferry
 * runs, such as the bot's own user name).
 */
export function cachedLookup<T>(lookup: () => Promise<T>): () => Promise<T> {
  let cached: Promise<T> | undefined;
  return () => {
    cached ??= lookup().catch((error: unknown) => {
      cached = undefined;
      throw error;
    });
    return cached;
  };
}
