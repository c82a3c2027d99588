import type { ReconcileJobData } from "../queue/reconcile-request.js";
import type { RedisClient } from "../queue/redis-connection.js";
import { agentKeys } from "./agent-keys.js";

/** The kind of objects (and their namespace) an environment has on an agent cluster: the agent finds their collection itself. */
export interface AgentWatchedType {
  apiVersion: string;
  kind: string;
  namespace?: string;
}

/**
 * What an agent watches for one environment (`reconcile.watch: true` on an agent cluster). Central
 * Ferry cannot resolve collection paths there (only the agent reaches the API server), so it names
 * the objects' types and the agent resolves them.
 */
export interface AgentWatchEntry {
  /** The reconcile to queue when one of the environment's objects changes (its scheduler's data). */
  data: ReconcileJobData;
  /** The environment's inventory id (`namespace/name`), as the owner annotation on each of its objects names it. */
  inventory: string;
  /** The types of the environment's objects. */
  types: AgentWatchedType[];
}

/** The set of agent clusters that may have watched environments: where central Ferry looks for changes. */
export const AGENT_WATCHED_CLUSTERS = "ferry:agent-watched-clusters";

/**
 * The environments watched on agent clusters, as central Ferry keeps them: each in its agent's own
 * hash (`{ferry-agent:<cluster>}:watches`, the only place the agent may read), and the cluster in
 * {@link AGENT_WATCHED_CLUSTERS} so central pollers know whom to ask. Written by each reconcile of
 * a watched environment, removed when it stops watching or is no longer reconciled there.
 */
export class AgentWatchRegistry {
  /** Binds the registry to Ferry's Redis (central: every key). */
  constructor(private readonly redis: RedisClient) {}

  /** Records (or updates) what `cluster`'s agent watches for reconcile scheduler `id`. */
  async record(cluster: string, id: string, entry: AgentWatchEntry): Promise<void> {
    await this.redis.hset(agentKeys(cluster).watches, id, JSON.stringify(entry));
    // After the entry: a prune that missed the entry re-adds the cluster (see clusters()).
    await this.redis.sadd(AGENT_WATCHED_CLUSTERS, cluster);
  }

  /** Stops watching reconcile scheduler `id`'s environment on `cluster` (nothing when it was not watched). */
  async forget(cluster: string, id: string): Promise<void> {
    await this.redis.hdel(agentKeys(cluster).watches, id);
  }

  /** What is watched for reconcile scheduler `id` on `cluster`, if it still is. */
  async entry(cluster: string, id: string): Promise<AgentWatchEntry | undefined> {
    const text = await this.redis.hget(agentKeys(cluster).watches, id);
    return text === null ? undefined : (JSON.parse(text) as AgentWatchEntry);
  }

  /** The agent clusters that may have watched environments. */
  async clusters(): Promise<string[]> {
    return this.redis.smembers(AGENT_WATCHED_CLUSTERS);
  }

  /**
   * Drops the clusters that watch nothing any more. A cluster is removed, then looked at again and
   * put back if an entry arrived meanwhile: a `record` either lands before that second look, or its
   * own SADD comes after the removal.
   */
  async prune(): Promise<void> {
    for (const cluster of await this.clusters()) {
      const { watches } = agentKeys(cluster);
      if ((await this.redis.hlen(watches)) > 0) continue;
      await this.redis.srem(AGENT_WATCHED_CLUSTERS, cluster);
      if ((await this.redis.hlen(watches)) > 0) await this.redis.sadd(AGENT_WATCHED_CLUSTERS, cluster);
    }
  }
}
