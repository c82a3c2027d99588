import type { ObjectRef } from "../kube/object-ref.js";

/** An object applied without a server-side dry-run, and the admission webhook that kept the server from one. */
export interface NotDryRun {
  ref: ObjectRef;
  /** The webhook (`sideEffects: Some` or `Unknown`) the server would not call for a dry-run. */
  webhook: string;
}

/** What a release changed, object by object. */
export interface ReleaseChanges {
  created: ObjectRef[];
  configured: ObjectRef[];
  /** Objects already as Git says. */
  unchanged: number;
  pruned: ObjectRef[];
  /** Objects applied without a dry-run (`validation.unsupportedDryRun: skip`); absent when none. */
  notDryRun?: NotDryRun[];
}

/** What a release did, and every object it holds (changed or not): what its health is judged on. */
export interface ReleaseResult extends ReleaseChanges {
  objects: ObjectRef[];
}

/** An object a release left suspended: held on purpose (a paused Deployment, a suspended Job) until someone resumes it. */
export interface SuspendedObject {
  /** The object. */
  ref: ObjectRef;
  /** What its health check says, e.g. `paused: not rolled out until resumed`. */
  message: string;
}

/** How a rollback after an unhealthy release ended. */
export interface RollbackOutcome {
  /** The commit rolled back to; absent when no earlier release succeeded. */
  sha?: string;
  /** `none`: nothing to roll back to; `superseded`: a newer release took the cluster during the rollback's wait. */
  state: "success" | "failure" | "superseded" | "none";
  /** Why it failed or did not happen; empty on success. */
  message: string;
  /** What re-applying the earlier release changed, once it was applied. */
  result?: ReleaseChanges;
}

/** How one cluster's release of a rollout ended. */
export type ClusterOutcome =
  /** Released and healthy; `suspended` names the objects held on purpose (a paused Deployment), which were not waited for. */
  | { kind: "released"; sha: string; result: ReleaseChanges; suspended?: SuspendedObject[] }
  /** The cluster already ran this commit, released by an earlier job. */
  | { kind: "already-released"; sha: string }
  /** A newer commit's rollout took the cluster: before this one started (no `result`) or while it waited for health. */
  | { kind: "superseded"; sha: string; by: string; result?: ReleaseChanges }
  /** Never touched: the rollout halted or was aborted before the cluster's turn. */
  | { kind: "skipped"; sha: string; reason: string }
  /** Failed: before writing anything, or (with `result`) applied but not healthy, then perhaps rolled back (`rollback`). */
  | { kind: "failed"; sha: string; error: string; result?: ReleaseChanges; rollback?: RollbackOutcome }
  /**
   * Its agent was not seen for `agentTimeout`: nothing is known of the cluster. Counted against the
   * wave's failure budget as a failure is.
   */
  | { kind: "unreachable"; sha: string; error: string };
