import { AgentWatchRegistry } from "../agent/agent-watch-registry.js";
import type { RedisClient } from "../queue/redis-connection.js";
import type { ReconcileJobData } from "../queue/reconcile-request.js";

/** An environment on a cluster whose objects are watched: what to reconcile when one of them changes. */
export interface WatchedEnvironment {
  /** The reconcile to run (its scheduler's data). */
  data: ReconcileJobData;
  /** The environment's inventory id (`namespace/name`), as the owner annotation on each of its objects names it. */
  inventory: string;
  /** The collections its objects live in, e.g. `/api/v1/namespaces/shop/configmaps`. */
  collections: string[];
}

/** The hash of watched environments, keyed by their reconcile scheduler's id. */
const KEY = "ferry:watched-environments";

/**
 * Which environments have `reconcile.watch` on, and what to watch for each: written by each of their
 * reconciles (which read the inventory anyway), removed when watching is turned off or the
 * environment is no longer reconciled. Every worker's watch supervisor reads it to choose its watches.
 */
export class WatchRegistry {
  /** Binds the registry to Ferry's Redis. */
  constructor(private readonly redis: RedisClient) {}

  /** Records (or updates) what to watch for the environment of reconcile scheduler `id`. */
  async record(id: string, watched: WatchedEnvironment): Promise<void> {
    await this.redis.hset(KEY, id, JSON.stringify(watched));
  }

  /**
   * Stops watching the environment of reconcile scheduler `id` on `cluster` (nothing when it was not
   * watched), here and, for an agent cluster, in what its agent watches (see AgentWatchRegistry).
   */
  async forget(id: string, cluster: string): Promise<void> {
    await this.redis.hdel(KEY, id);
    await new AgentWatchRegistry(this.redis).forget(cluster, id);
  }

  /** Every watched environment. */
  async all(): Promise<WatchedEnvironment[]> {
    const values = Object.values(await this.redis.hgetall(KEY));
    return values.map((v) => JSON.parse(v) as WatchedEnvironment);
  }
}
