import type { Logger } from "pino";
import type { AgentQueues } from "../agent/agent-queues.js";
import type { AuditTrail } from "../audit/audit-trail.js";
import type { ServerConfig } from "../config/server-config.js";
import type { RepoRef } from "../domain/repo.js";
import type { Forge, ForgeFactory } from "../forge/types.js";
import type { ClusterRegistry } from "../kube/cluster-registry.js";
import type { KubeClient } from "../kube/kube-client.js";
import type { LiveReader } from "../kube/live-state.js";
import type { Metrics } from "../metrics/metrics.js";
import type { Queues } from "../queue/queues.js";
import type { RedisClient } from "../queue/redis-connection.js";
import { finalStatusOnce } from "../report/final-status-once.js";
import { ReleaseReporter } from "../report/release-reporter.js";
import type { Renderer } from "../render/types.js";
import type { RolloutStore } from "../rollout/rollout-store.js";

/** What the deploy, rollout and release jobs need, built once by the composition root. */
export interface ReleaseDeps {
  config: ServerConfig;
  forges: ForgeFactory;
  clusters: ClusterRegistry;
  renderer: Renderer;
  /** Redis for locks and frozen final statuses. */
  redis: RedisClient;
  store: RolloutStore;
  queues: Queues;
  /** Base URL Ferry is reached at, for rollout links. */
  publicUrl: string;
  log: Logger;
  metrics?: Metrics;
  /** Where releases, rollbacks, rollouts and heals are recorded (a failed write never fails the job). */
  audit: AuditTrail;
  /** How long the release lock of a worker that died stays taken (default 30 s). */
  claimMs?: number;
  /** Where plans and reconciles read a cluster's live objects: this process's watch caches, the API server behind them. */
  liveReader?(cluster: string, client: KubeClient): LiveReader;
  /** The queues of agent clusters' agents (`agent: true`), which release those clusters. */
  agents?: AgentQueues;
}

/** Which attempt this is, so the last one reports failure instead of "retrying". */
export interface Attempt {
  number: number;
  of: number;
}

/** A repository's forge, with each commit's final deploy status frozen once posted, and the reporter on it (logging to `deps.log`). */
export async function forgeAndReporter(
  repo: RepoRef,
  deps: ReleaseDeps,
): Promise<{ forge: Forge; reporter: ReleaseReporter }> {
  const forge = finalStatusOnce(await deps.forges(repo), deps.redis);
  const options = { log: deps.log, ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }) };
  return { forge, reporter: new ReleaseReporter(forge, deps.store, deps.redis, deps.publicUrl, options) };
}

/**
 * Runs a job's `work`, then waits until `reporter` has sent every status the work queued, so a job
 * ends only after its statuses (the last one above all) reached the forge. A final status that could
 * not be sent yet fails a job whose work succeeded (it is retried and reports again); when the work
 * failed, its own error is what the job ends with.
 */
export async function reportingTo<T>(reporter: ReleaseReporter, work: () => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await work();
  } catch (error) {
    await reporter.settled().catch(() => undefined);
    throw error;
  }
  await reporter.settled();
  return result;
}

/**
 * The lock one environment on one cluster is released under, across every worker; tagged with the
 * cluster, so on a Redis Cluster a cluster's locks (and their waiters) are on the slot of its name.
 */
export function releaseLockKey(repo: RepoRef, environment: string, cluster: string): string {
  return `ferry:lock:release:{cluster:${cluster}}:${repo.forge}:${repo.fullName}:${environment}`;
}
