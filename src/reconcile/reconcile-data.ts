import { driftMode, watched, type Environment } from "../config/ferry-config.js";
import { reconcileInterval } from "../config/reconcile-interval.js";
import type { ServerConfig } from "../config/server-config.js";
import type { RepoRef } from "../domain/repo.js";
import type { ReconcileJobData } from "../queue/reconcile-request.js";

/**
 * The reconcile of `env` (as resolved for `cluster`) deployed from `branch`: what its scheduler runs,
 * and what a watched change or a finished release queues. `raisedFrom` is the interval it asked for
 * when the server's floor raised it.
 */
export function reconcileData(
  repo: RepoRef,
  branch: string,
  env: Environment,
  cluster: string,
  config: ServerConfig,
): { data: ReconcileJobData; raisedFrom?: string } {
  const interval = reconcileInterval(env, config);
  const data: ReconcileJobData = {
    repo,
    branch,
    environment: env.name,
    cluster,
    namespace: env.namespace,
    drift: driftMode(env),
    watch: watched(env),
    everyMs: interval.everyMs,
  };
  return interval.raisedFrom === undefined ? { data } : { data, raisedFrom: interval.raisedFrom };
}
