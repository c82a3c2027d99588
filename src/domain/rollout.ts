import type { ClusterOutcome } from "./release.js";
import type { RepoRef } from "./repo.js";
import type { DeployTrigger } from "./requests.js";

/** One wave of a rollout: its clusters, in order, and how it is paced and gated. */
export interface WavePlan {
  /** 0-based position. */
  index: number;
  /** `canary`, `eu`; `wave-<n>` when `.ferry.yml` gives none, `all` for a fleet without waves. */
  name: string;
  /** Cluster names, in the server config's order; never empty. */
  clusters: string[];
  /** Clusters released at once. */
  maxParallel: number;
  /** Clusters of the wave that may fail before the rollout halts. */
  failureBudget: number;
  /** Wait this long after the wave before the next one starts (`/ferry continue` ends it early); never on the last wave. */
  pauseMs?: number;
  /** Wait for `/ferry continue` after the wave before the next one starts; never on the last wave. */
  approval: boolean;
}

/**
 * Where a rollout stands: `waiting` for the environment it comes `after`; `running` a wave;
 * `paused` or `awaiting-approval` between waves; then one of the final states: `succeeded` (every
 * cluster released), `failed` (a wave's failure budget was spent: halted), `aborted` (`/ferry
 * abort`), `superseded` (a newer commit's rollout took the environment), `blocked` (the environment
 * it comes after did not release the commit).
 */
export type RolloutState =
  | "waiting"
  | "running"
  | "paused"
  | "awaiting-approval"
  | "succeeded"
  | "failed"
  | "aborted"
  | "superseded"
  | "blocked";

/** Final rollout states. */
export const FINAL_ROLLOUT_STATES: ReadonlySet<RolloutState> = new Set([
  "succeeded",
  "failed",
  "aborted",
  "superseded",
  "blocked",
]);

/** Where one cluster of a rollout stands. */
export type ClusterState = "pending" | "releasing" | ClusterOutcome["kind"];

/** Each state once, as a record so that a state added to {@link ClusterState} and left out fails the build. */
const STATE_SET: Record<ClusterState, true> = {
  pending: true,
  releasing: true,
  released: true,
  "already-released": true,
  superseded: true,
  skipped: true,
  failed: true,
  unreachable: true,
};

/** Every cluster state, in the order a rollout moves through them (outcomes last). */
export const CLUSTER_STATES: readonly ClusterState[] = Object.keys(STATE_SET) as ClusterState[];

/** One cluster of a rollout. */
export interface ClusterProgress {
  cluster: string;
  /** Index of its wave. */
  wave: number;
  state: ClusterState;
  /** Epoch ms its release started and ended. */
  startedAt?: number;
  finishedAt?: number;
  /** How its release ended, once it did. */
  outcome?: ClusterOutcome;
}

/** One commit's release of one environment across its clusters, wave by wave. */
export interface Rollout {
  /** Unguessable id: the rollout page's address. */
  id: string;
  repo: RepoRef;
  environment: string;
  branch: string;
  /** The commit released (the branch head when the rollout started). */
  sha: string;
  /** Who merged or pushed it. */
  actor: string;
  /** The forge's delivery that started it, for logs. */
  delivery: string;
  /** What started it when no webhook did (`reconcile`: the branch's webhook never came). */
  trigger?: DeployTrigger;
  /** The environment whose rollout of the same commit must succeed first. */
  after?: string;
  /** True when the environment names one `cluster:` (reported as one release, not as a fleet). */
  single: boolean;
  waves: WavePlan[];
  state: RolloutState;
  /** Index of the wave running, or the last one finished. */
  wave: number;
  /** Epoch ms. */
  createdAt: number;
  finishedAt?: number;
  /** Epoch ms the current wave started. */
  waveStartedAt?: number;
  /** Epoch ms a pause ends. */
  pausedUntil?: number;
  /** Why it halted, was aborted, superseded or blocked. */
  reason?: string;
  /** The newer commit that superseded it. */
  supersededBy?: string;
}

/** How many clusters of a rollout (or wave) are in each state. */
export type ClusterCounts = Record<ClusterState, number>;

/** Clusters counted against a wave's failure budget: failed, or unreachable (their agent unseen for `agentTimeout`). */
export function failuresOf(counts: ClusterCounts): number {
  return counts.failed + counts.unreachable;
}

/** A rollout without its waves: what a cluster's release needs (a fleet's waves list every cluster). */
export type RolloutSummary = Omit<Rollout, "waves">;
