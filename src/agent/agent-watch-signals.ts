import type { Logger } from "pino";
import type { ReconcileJobData } from "../queue/reconcile-request.js";
import type { RedisClient } from "../queue/redis-connection.js";
import { agentKeys } from "./agent-keys.js";
import { AgentWatchRegistry } from "./agent-watch-registry.js";

/** What the poller of agents' watched changes needs. */
export interface AgentWatchSignalsOptions {
  /** Ferry's Redis (central). */
  redis: RedisClient;
  /** Queues a reconcile of one environment on one cluster soon (debounced: many changes, one run). */
  reconcileSoon(data: ReconcileJobData): Promise<void>;
  log: Logger;
  /** How often the agents' `changed` sets are popped (default 1 s). */
  pollMs?: number;
  /** Every this many polls, clusters that watch nothing any more are dropped from the list (default 60). */
  pruneEvery?: number;
}

/** Ids popped from one agent's set at a time. */
const BATCH = 100;

/**
 * Central Ferry's half of `reconcile.watch` on agent clusters: every `pollMs` pops the ids the agents
 * of clusters with watched environments put in their `changed` sets (SPOP: atomic, so every worker
 * process may poll, and each id is taken by one) and queues a reconcile of each — the same debounced
 * path as the central drift watch. An id whose environment is no longer watched there (its entry
 * gone from the agent's hash) is dropped. Returns a handle that stops the polling.
 */
export function startAgentWatchSignals(options: AgentWatchSignalsOptions): { stop(): Promise<void> } {
  const { redis, log } = options;
  const registry = new AgentWatchRegistry(redis);
  const pruneEvery = options.pruneEvery ?? 60;
  let polls = 0;
  let stopped = false;

  const popCluster = async (cluster: string) => {
    const ids = await redis.spop(agentKeys(cluster).changed, BATCH);
    for (const id of ids) {
      const entry = await registry.entry(cluster, id);
      if (entry === undefined) {
        log.info({ cluster, id }, "a watched change for an environment no longer watched there: dropped");
        continue;
      }
      const { data } = entry;
      await options
        .reconcileSoon(data)
        .catch((error: unknown) =>
          log.warn(
            { err: error, repository: data.repo.fullName, environment: data.environment, cluster },
            "a watched change on an agent cluster could not queue a reconcile",
          ),
        );
    }
  };
  const poll = async () => {
    if (++polls % pruneEvery === 0) await registry.prune();
    // One command per cluster, all sent at once (ioredis pipelines them on its connection, per node on a Redis Cluster).
    const clusters = await registry.clusters();
    const results = await Promise.allSettled(clusters.map(popCluster));
    for (const [i, result] of results.entries())
      if (result.status === "rejected")
        log.warn({ err: result.reason, cluster: clusters[i] }, "could not read an agent's watched changes");
  };

  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    // A poll still running (a slow Redis) is not queued behind: the next tick after it polls.
    if (stopped || running !== undefined) return;
    running = poll()
      .catch((error: unknown) => log.warn({ err: error }, "agent watch poll failed"))
      .finally(() => (running = undefined));
  }, options.pollMs ?? 1_000);
  timer.unref();
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
