import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { DEPLOY_QUEUE } from "../../src/queue/deploy-request.js";
import { COMMAND_QUEUE, PLAN_QUEUE } from "../../src/queue/plan-request.js";
import { RELEASE_QUEUE, ROLLOUT_QUEUE } from "../../src/queue/queues.js";
import { connectRedis } from "../../src/queue/redis-connection.js";

/** Every queue Ferry adds jobs to: intake's, then the rollouts and their clusters' releases. */
export const FERRY_QUEUES = [DEPLOY_QUEUE, PLAN_QUEUE, COMMAND_QUEUE, ROLLOUT_QUEUE, RELEASE_QUEUE] as const;

/**
 * Counts the jobs in Ferry's queues in every state (finished jobs are kept, so a job a worker
 * already ran still counts): the way a test proves a request queued nothing.
 */
export class JobCounter {
  private constructor(
    private readonly redis: Redis,
    private readonly queues: Queue[],
  ) {}

  /** Opens the queues on the Redis at `url`. */
  static open(url: string): JobCounter {
    const redis = connectRedis(url);
    return new JobCounter(redis, FERRY_QUEUES.map((name) => new Queue(name, { connection: redis })));
  }

  /** Jobs per queue (deploy, plan, command, rollout, release), whatever their state. */
  async counts(): Promise<number[]> {
    return Promise.all(this.queues.map(async (q) => Object.values(await q.getJobCounts()).reduce((a, b) => a + b, 0)));
  }

  /** Jobs in all of Ferry's queues, whatever their state. */
  async total(): Promise<number> {
    return (await this.counts()).reduce((a, b) => a + b, 0);
  }

  /** Waits until no job is waiting, delayed or running in any queue (a job that queues another counts until that one ran too). */
  async settled(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let quiet = 0; quiet < 3; ) {
      const counts = await Promise.all(this.queues.map((q) => q.getJobCounts("waiting", "active", "delayed", "prioritized", "waiting-children", "paused")));
      const busy = counts.reduce((sum, c) => sum + Object.values(c).reduce((a, b) => a + b, 0), 0);
      quiet = busy === 0 ? quiet + 1 : 0;
      if (Date.now() > deadline) throw new Error(`jobs still running after ${timeoutMs} ms: ${JSON.stringify(counts)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Closes the queues and the connection. */
  async close(): Promise<void> {
    await Promise.all(this.queues.map((q) => q.close()));
    this.redis.disconnect();
  }
}
