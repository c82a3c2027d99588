import { failuresOf, type ClusterCounts, type Rollout, type WavePlan } from "../domain/rollout.js";

/**
 * What a rollout does next, decided from its state and its waves' counts alone:
 * `start` these many more clusters of the current wave; `wait` for the clusters releasing;
 * `pause` until a time; `approve` (wait for `/ferry continue`); `advance` to the next wave;
 * `finish` in a final state.
 */
export type NextStep =
  | { kind: "start"; wave: WavePlan; count: number }
  | { kind: "wait" }
  | { kind: "pause"; until: number }
  | { kind: "approve" }
  | { kind: "advance"; wave: number }
  | { kind: "finish"; state: "succeeded" | "failed"; reason?: string };

/**
 * The next step of a running rollout. A wave whose failures (failed or unreachable clusters)
 * exceed its budget halts the rollout (no further cluster is touched; those releasing finish); a
 * wave starts clusters while fewer than `maxParallel` are releasing; a finished wave passes its
 * gate (pause or approval, ended early by `continued`) before the next starts.
 */
export function nextStep(rollout: Rollout, counts: ClusterCounts[], now: number, continued: boolean): NextStep {
  const wave = rollout.waves[rollout.wave];
  const c = counts[rollout.wave];
  if (!wave || !c) return { kind: "finish", state: "succeeded" };
  const failures = failuresOf(c);
  if (failures > wave.failureBudget) {
    if (c.releasing > 0) return { kind: "wait" };
    const unreachable = c.unreachable > 0 ? ` (${c.unreachable} unreachable)` : "";
    return {
      kind: "finish",
      state: "failed",
      reason: `${failures} of ${wave.clusters.length} clusters failed${unreachable} in wave ${wave.name} (failure budget ${wave.failureBudget})`,
    };
  }
  if (c.pending > 0 && c.releasing < wave.maxParallel)
    return { kind: "start", wave, count: Math.min(c.pending, wave.maxParallel - c.releasing) };
  if (c.releasing > 0 || c.pending > 0) return { kind: "wait" };
  if (rollout.wave === rollout.waves.length - 1) return { kind: "finish", state: "succeeded" };
  if (!continued && wave.approval) return { kind: "approve" };
  if (!continued && wave.pauseMs !== undefined) {
    const until = rollout.pausedUntil ?? now + wave.pauseMs;
    if (now < until) return { kind: "pause", until };
  }
  return { kind: "advance", wave: rollout.wave + 1 };
}
