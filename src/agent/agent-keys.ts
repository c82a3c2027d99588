/**
 * Where one agent cluster's work lives in Redis. Every key of an agent carries the hash tag
 * `{ferry-agent:<cluster>}`, so its Redis ACL user can be limited to them with one key pattern,
 * and on a Redis Cluster each agent's keys share a slot of their own (apart from Ferry's `{ferry}`).
 */
export interface AgentKeys {
  /** The cluster the agent runs in. */
  cluster: string;
  /** BullMQ's key prefix for the agent's queue. */
  prefix: string;
  /** The Redis ACL key pattern that covers every key of the agent. */
  pattern: string;
  /** The key the agent refreshes while it runs (its value: the agent's clock in epoch ms). */
  heartbeat: string;
  /** The Redis ACL user the agent connects as. */
  user: string;
  /** Hash of what the agent watches (`reconcile.watch`): reconcile scheduler id → {@link AgentWatchEntry} JSON, written by central Ferry. */
  watches: string;
  /** Set of the reconcile scheduler ids whose objects changed by another hand, added by the agent and popped by central Ferry. */
  changed: string;
}

/** Name of an agent's queue of cluster releases (under its own prefix). */
export const AGENT_RELEASE_QUEUE = "release";

/** The keys of `cluster`'s agent. */
export function agentKeys(cluster: string): AgentKeys {
  const prefix = `{ferry-agent:${cluster}}`;
  return {
    cluster,
    prefix,
    pattern: `${prefix}:*`,
    heartbeat: `${prefix}:heartbeat`,
    user: `ferry-agent-${cluster}`,
    watches: `${prefix}:watches`,
    changed: `${prefix}:changed`,
  };
}

/** The key that tells an agent to leave a job alone (the release it holds was cancelled centrally). */
export function cancelKey(keys: AgentKeys, jobId: string): string {
  return `${keys.prefix}:cancel:${jobId}`;
}
