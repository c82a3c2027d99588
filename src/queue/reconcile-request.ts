import { createHash } from "node:crypto";
import type { DriftMode } from "../config/ferry-config.js";
import type { RepoRef } from "../domain/repo.js";

/** Name of the queue of reconciles: one job scheduler per (repository, environment, cluster). */
export const RECONCILE_QUEUE = "ferry-reconcile";

/**
 * A reconcile's data: which environment on which cluster, as the deploy that scheduled it last
 * resolved it (the namespace its inventory lives in, what drift does). A `/ferry heal` run adds
 * `heal` and skips the catch-up.
 */
export interface ReconcileJobData {
  repo: RepoRef;
  /** The branch the environment deploys from; its head is what the cluster should run. */
  branch: string;
  environment: string;
  cluster: string;
  /** The environment's namespace on this cluster, where its inventory lives. */
  namespace: string;
  drift: DriftMode;
  /** `reconcile.watch`: the environment's objects are watched, and a change reconciles it within seconds. */
  watch?: boolean;
  /** How often it runs, in milliseconds: how long a cluster's verdict stands for a fleet's status. */
  everyMs: number;
}

/**
 * The id of the job scheduler reconciling one environment on one cluster: derived from them, so a
 * later deploy of the branch updates the same scheduler (or removes it) instead of adding another.
 */
export function reconcileSchedulerId(repo: RepoRef, environment: string, cluster: string): string {
  const key = `${repo.forge}\n${repo.fullName}\n${environment}\n${cluster}`;
  return `reconcile-${createHash("sha256").update(key).digest("hex").slice(0, 32)}`;
}
