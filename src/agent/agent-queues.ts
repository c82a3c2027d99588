import { Queue } from "bullmq";
import type { RedisClient } from "../queue/redis-connection.js";
import { AGENT_RELEASE_QUEUE, agentKeys, type AgentKeys } from "./agent-keys.js";
import type { AgentJobData, AgentJobResult } from "./agent-release-request.js";

/** An agent's queue of releases and plans, as central Ferry adds to it. */
export type AgentQueue = Queue<AgentJobData, AgentJobResult>;

/**
 * Central Ferry's side of every agent's queue, opened on first use on one connection (each queue
 * under its agent's own prefix) and kept for the process's life.
 */
export class AgentQueues {
  private readonly queues = new Map<string, AgentQueue>();

  /** Opens queues on `redis`, which central Ferry owns (closing them leaves it open). */
  constructor(readonly redis: RedisClient) {}

  /** The queue of `cluster`'s agent, and its keys. */
  of(cluster: string): { queue: AgentQueue; keys: AgentKeys } {
    const keys = agentKeys(cluster);
    let queue = this.queues.get(cluster);
    if (!queue) {
      queue = new Queue<AgentJobData, AgentJobResult>(AGENT_RELEASE_QUEUE, {
        connection: this.redis,
        prefix: keys.prefix,
      });
      queue.on("error", () => undefined);
      this.queues.set(cluster, queue);
    }
    return { queue, keys };
  }

  /** Closes every queue (not the connection). */
  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}
