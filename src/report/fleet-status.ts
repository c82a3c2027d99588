import {
  CLUSTER_STATES,
  type ClusterCounts,
  type ClusterProgress,
  type Rollout,
  type WavePlan,
} from "../domain/rollout.js";
import { trimDescription } from "../forge/trim-description.js";
import { caughtUpHead, firstLine, short } from "./deploy-report.js";

/** A rollout with where each of its clusters stands: what its status, comment section and page are written from. */
export interface RolloutView {
  /** The rollout: its waves, state and commit. */
  rollout: Rollout;
  /** One entry per cluster of the rollout, in wave order. */
  clusters: ClusterProgress[];
}

/** The commit status state of `ferry/deploy/<env>`, as the forges take it. */
export type FleetStatusState = "pending" | "running" | "success" | "failure";

/** The one commit status of an environment's fleet rollout. */
export interface FleetStatus {
  /** `pending` while waiting for the environment before; `running` through the waves; then the verdict. */
  state: FleetStatusState;
  /** What happened so far, with the cluster counts, within GitHub's 140 characters. */
  description: string;
}

/**
 * Where one wave stands: `waiting` for its turn, `running`, `done` (every cluster reached an
 * outcome), `halted` (its failure budget was spent), `aborted` or `superseded` while it ran, or `not
 * started` (the rollout ended, or was blocked, before its turn).
 */
export type WaveState = "waiting" | "running" | "done" | "halted" | "aborted" | "superseded" | "not started";

/** One wave's plan with its clusters' counts, state and timing: a row of the comment's and the page's wave table. */
export interface WaveSummary {
  /** The wave as planned. */
  plan: WavePlan;
  /** Clusters of the wave in each state. */
  counts: ClusterCounts;
  /** Clusters of the wave. */
  total: number;
  /** Where the wave stands. */
  state: WaveState;
  /** Epoch ms its first cluster started, once one did. */
  startedAt?: number;
  /** Epoch ms its last cluster finished, once the wave is over. */
  finishedAt?: number;
  /** From its first cluster's start to its last one's end (or to now while it runs); undefined before it started. */
  durationMs?: number;
}

/** GitHub's cap on a commit status description. */
export const STATUS_LENGTH = 140;

/** Counts with every state at 0. */
export function emptyCounts(): ClusterCounts {
  return Object.fromEntries(CLUSTER_STATES.map((state) => [state, 0])) as ClusterCounts;
}

/** How many of `clusters` are in each state. */
export function clusterCounts(clusters: readonly ClusterProgress[]): ClusterCounts {
  const counts = emptyCounts();
  for (const c of clusters) counts[c.state]++;
  return counts;
}

/** Clusters counted: every state summed. */
export function totalOf(counts: ClusterCounts): number {
  return CLUSTER_STATES.reduce((n, state) => n + counts[state], 0);
}

/** Clusters that run the commit: released now, or already running it from an earlier job. */
export function releasedOf(counts: ClusterCounts): number {
  return counts.released + counts["already-released"];
}

/** Clusters the rollout never wrote to: still pending, or skipped after a halt or abort. */
export function notTouchedOf(counts: ClusterCounts): number {
  return counts.pending + counts.skipped;
}

/** `wave 2/3 (eu)`: a wave by its 1-based position and name. */
export function waveLabel(rollout: Rollout, index: number): string {
  const name = rollout.waves[index]?.name;
  return `wave ${index + 1}/${rollout.waves.length}${name === undefined ? "" : ` (${name})`}`;
}

/** `42s`, `3m 12s`, `1h 5m`: a duration as the comment and page show it. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

/** `4m`, `40s`, `1h 5m`: how long until a pause ends, rounded up so it never says less than is left. */
function countdown(ms: number): string {
  if (ms < 60_000) return `${Math.max(1, Math.ceil(ms / 1000))}s`;
  const minutes = Math.ceil(ms / 60_000);
  return minutes < 60 ? `${minutes}m` : `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The state of the wave at `index` of a rollout whose wave has these counts. */
function waveState(rollout: Rollout, index: number, counts: ClusterCounts): WaveState {
  const { state } = rollout;
  if (state === "waiting") return "waiting";
  if (state === "blocked") return "not started";
  if (index < rollout.wave) return "done";
  if (index > rollout.wave)
    return state === "running" || state === "paused" || state === "awaiting-approval" ? "waiting" : "not started";
  const unfinished = counts.pending + counts.releasing + counts.skipped;
  switch (state) {
    case "running":
      return "running";
    case "paused":
    case "awaiting-approval":
    case "succeeded":
      return "done";
    case "failed":
      return "halted";
    case "aborted":
    case "superseded":
      // Aborted or superseded between waves: the wave it had finished stays done.
      return unfinished === 0 ? "done" : state;
  }
}

/** One summary per wave of the rollout, in order; `now` (epoch ms) ends a running wave's duration. */
export function waveSummaries(view: RolloutView, now = Date.now()): WaveSummary[] {
  const { rollout } = view;
  const perWave = rollout.waves.map(() => ({
    counts: emptyCounts(),
    startedAt: undefined as number | undefined,
    finishedAt: undefined as number | undefined,
  }));
  for (const c of view.clusters) {
    const wave = perWave[c.wave];
    if (wave === undefined) continue;
    wave.counts[c.state]++;
    if (c.startedAt !== undefined) wave.startedAt = Math.min(wave.startedAt ?? c.startedAt, c.startedAt);
    if (c.finishedAt !== undefined) wave.finishedAt = Math.max(wave.finishedAt ?? c.finishedAt, c.finishedAt);
  }
  return rollout.waves.map((plan, index) => {
    const { counts, startedAt, finishedAt: lastEnd } = perWave[index] ?? { counts: emptyCounts() };
    const state = waveState(rollout, index, counts);
    // A wave with a cluster still releasing is not over, whatever its last finished cluster says.
    const running = state === "running" || counts.releasing > 0;
    const finishedAt = running ? undefined : lastEnd;
    const end = running ? now : finishedAt;
    const summary: WaveSummary = { plan, counts, total: totalOf(counts), state };
    if (startedAt !== undefined) summary.startedAt = startedAt;
    if (finishedAt !== undefined) summary.finishedAt = finishedAt;
    if (startedAt !== undefined && end !== undefined) summary.durationMs = Math.max(0, end - startedAt);
    return summary;
  });
}

/** `1 failed, 2 unreachable`: the clusters counted against a failure budget, each kind only when there are any (empty when none). */
export function failuresText(counts: Pick<ClusterCounts, "failed" | "unreachable">): string {
  const parts: string[] = [];
  if (counts.failed > 0) parts.push(`${counts.failed} failed`);
  if (counts.unreachable > 0) parts.push(`${counts.unreachable} unreachable`);
  return parts.join(", ");
}

/**
 * `38/40 clusters released, 1 failed, 1 unreachable`: the fleet's counts, with failed, unreachable
 * and superseded only when there are any.
 */
export function countsText(counts: ClusterCounts): string {
  const parts = [`${releasedOf(counts)}/${plural(totalOf(counts), "cluster", "clusters")} released`];
  const failures = failuresText(counts);
  if (failures !== "") parts.push(failures);
  if (counts.superseded > 0) parts.push(`${counts.superseded} superseded`);
  return parts.join(", ");
}

/** `text` and then `suffix`, the text cut so the whole stays within a status description: the counts always survive. */
function fit(text: string, suffix = ""): string {
  return trimDescription(trimDescription(text, Math.max(1, STATUS_LENGTH - suffix.length)) + suffix, STATUS_LENGTH);
}

/**
 * The one commit status of a fleet rollout (`ferry/deploy/<env>`): pending while it waits for the
 * environment before it, running through its waves and pauses, then success (released, or
 * superseded by a newer commit's rollout that includes this one) or failure (halted, aborted,
 * blocked). Descriptions always carry the counts and fit GitHub's 140 characters; `now` (epoch ms)
 * tells how long a pause has left.
 */
export function fleetStatus(view: RolloutView, now = Date.now()): FleetStatus {
  const { rollout } = view;
  const counts = clusterCounts(view.clusters);
  const sha = short(rollout.sha);
  const wave = waveLabel(rollout, rollout.wave);
  const failures = failuresText(counts);
  const failed = failures === "" ? "" : `, ${failures}`;
  const reason = firstLine(rollout.reason ?? "").trim();
  switch (rollout.state) {
    case "waiting":
      return {
        state: "pending",
        description: fit(
          rollout.after === undefined
            ? `waiting to start: ${countsText(counts)}`
            : `waiting for ${rollout.after} to release ${sha}`,
        ),
      };
    case "running":
      return { state: "running", description: fit(`${wave}: ${countsText(counts)}`) };
    case "paused": {
      const next = rollout.wave + 1;
      const when =
        rollout.pausedUntil === undefined
          ? "on /ferry continue"
          : rollout.pausedUntil > now
            ? `in ${countdown(rollout.pausedUntil - now)} or on /ferry continue`
            : "now";
      return {
        state: "running",
        description: fit(`${wave} done${failed}; wave ${next + 1}${nameOf(rollout, next)} starts ${when}`),
      };
    }
    case "awaiting-approval": {
      const next = rollout.wave + 1;
      return {
        state: "running",
        description: fit(
          `${wave} done${failed}; /ferry continue ${rollout.environment} starts wave ${next + 1}${nameOf(rollout, next)}`,
        ),
      };
    }
    case "succeeded":
      return {
        state: "success",
        description: fit(
          `${rollout.trigger === "reconcile" ? `${caughtUpHead(rollout.sha)};` : `deployed ${sha}`} to ${releasedOf(counts)}/${totalOf(counts)} clusters in ${plural(rollout.waves.length, "wave", "waves")}${failed}${counts.superseded > 0 ? `, ${counts.superseded} superseded` : ""}`,
        ),
      };
    case "failed": {
      const plan = rollout.waves[rollout.wave];
      const inWave = clusterCounts(view.clusters.filter((c) => c.wave === rollout.wave));
      const budget = plan === undefined ? "" : ` (budget ${plan.failureBudget})`;
      return {
        state: "failure",
        description: fit(
          `halted in ${wave}: ${failuresText(inWave) || "0 failed"}${budget}, ${plural(notTouchedOf(counts), "cluster", "clusters")} not touched`,
        ),
      };
    }
    case "aborted":
      return {
        state: "failure",
        description: fit(reason || "aborted", `: ${countsText(counts)}, ${notTouchedOf(counts)} not touched`),
      };
    case "superseded": {
      const by = rollout.supersededBy === undefined ? "a newer commit" : short(rollout.supersededBy);
      return {
        state: "success",
        description: fit(
          `superseded by ${by} after ${releasedOf(counts)}/${plural(totalOf(counts), "cluster", "clusters")}: its rollout includes this commit`,
        ),
      };
    }
    case "blocked": {
      const head =
        rollout.after === undefined ? `not released` : `not released: ${rollout.after} did not release ${sha}`;
      // The reason goes in parentheses, cut to the room the head leaves (none, for a very long environment name).
      const room = STATUS_LENGTH - head.length - 3;
      if (reason === "" || room < 10) return { state: "failure", description: fit(head) };
      return { state: "failure", description: `${head} (${trimDescription(reason, room)})` };
    }
  }
}

function nameOf(rollout: Rollout, index: number): string {
  const name = rollout.waves[index]?.name;
  return name === undefined ? "" : ` (${name})`;
}
