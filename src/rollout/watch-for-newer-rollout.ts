import type { RolloutSummary } from "../domain/rollout.js";
import type { RolloutStore } from "./rollout-store.js";

/** A watch for a newer rollout of the same environment, started while a cluster's release waits for health. */
export interface NewerRolloutWatch {
  /** Fires once a newer rollout is the environment's current one. */
  readonly signal: AbortSignal;
  /** The newer rollout's commit, once the watch fired. */
  newer(): string | undefined;
  /** Stops watching. */
  stop(): void;
}

/**
 * Watches the environment's current rollout while `rollout` waits for a cluster's health, and
 * fires when a newer one took the environment: the release then stops waiting and lets the newer
 * one start at once (Flux's `CancelHealthCheckOnNewRevision`). One Redis read a second.
 */
export function watchForNewerRollout(
  store: RolloutStore,
  rollout: RolloutSummary,
  intervalMs = 1_000,
): NewerRolloutWatch {
  const controller = new AbortController();
  let newer: string | undefined;
  let busy = false;
  const poll = async () => {
    if (busy || controller.signal.aborted) return;
    busy = true;
    try {
      const current = await store.current(rollout.repo, rollout.environment);
      if (current !== undefined && current !== rollout.id) {
        newer = (await store.summary(current))?.sha ?? "a newer commit";
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
  return { signal: controller.signal, newer: () => newer, stop: () => clearInterval(timer) };
}
