import { lockWaiters } from "./environment-lock.js";
import type { RedisClient } from "./redis-connection.js";

/** A watch for a newer release of the same environment, started while a release waits for health. */
export interface NewerReleaseWatch {
  /** Fires once a job for a newer commit waits for the environment. */
  readonly signal: AbortSignal;
  /** The newer commit (the branch's head when the watch fired), once it fired. */
  newer(): string | undefined;
  /** Stops watching. */
  stop(): void;
}

/**
 * Watches the environment's release lock while the release of `releasing` waits for health, and
 * fires when a job waits for the lock wanting another commit and the branch has indeed moved past
 * `releasing` (a late webhook for an older commit wants the head it read, which may be older).
 * The release then stops waiting and lets the newer one start at once (Flux's
 * `CancelHealthCheckOnNewRevision`). Costs one Redis read a second, and a forge read only when a
 * waiter wants a commit not checked before.
 */
export function watchForNewerRelease(redis: RedisClient, lockKey: string, releasing: string, branchHead: () => Promise<string>, intervalMs = 1_000): NewerReleaseWatch {
  const controller = new AbortController();
  const checked = new Set<string>([releasing]);
  let newer: string | undefined;
  let busy = false;
  const poll = async () => {
    if (busy || controller.signal.aborted) return;
    busy = true;
    try {
      const wanted = (await lockWaiters(redis, lockKey)).filter((sha) => !checked.has(sha));
      if (wanted.length === 0) return;
      const head = await branchHead();
      for (const sha of wanted) checked.add(sha);
      if (head !== releasing) {
        newer = head;
        controller.abort();
      }
    } catch {
      // A failed look is tried again at the next tick; the release's own wait is unaffected.
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void poll(), intervalMs);
  timer.unref();
  return {
    signal: controller.signal,
    newer: () => newer,
    stop: () => clearInterval(timer),
  };
}
