import { Queue, QueueEvents } from "bullmq";
import { DEPLOY_QUEUE } from "../../src/queue/deploy-request.js";
import { COMMAND_QUEUE, PLAN_QUEUE } from "../../src/queue/plan-request.js";
import { AGENT_RELEASE_QUEUE, RELEASE_QUEUE, ROLLOUT_QUEUE } from "../../src/queue/queues.js";
import { openRedis, queueLayout, type RedisClient, type RedisTarget } from "../../src/queue/redis-connection.js";
import { waitUntil } from "./wait-until.js";

/** Every queue Ferry adds jobs to: intake's, then the rollouts and their clusters' releases (direct, and through agents). */
export const FERRY_QUEUES = [
  DEPLOY_QUEUE,
  PLAN_QUEUE,
  COMMAND_QUEUE,
  ROLLOUT_QUEUE,
  RELEASE_QUEUE,
  AGENT_RELEASE_QUEUE,
] as const;

/** One of Ferry's queues. */
export type FerryQueue = (typeof FERRY_QUEUES)[number];

/** One event of a queue's stream, as BullMQ's QueueEvents reads it (`jobId`, `returnvalue`, `failedReason`, ...). */
interface SeenEvent {
  queue: string;
  event: string;
  args: Record<string, unknown>;
}

/** How a job ended: completed with its return value, or failed for good (its retries spent). */
export type JobEnd = { state: "completed"; returnvalue: unknown } | { state: "failed"; failedReason: string };

/** What the adds of some job ids became, once each was answered and every job they queued finished. */
export interface AddsOutcome {
  /** Jobs the adds queued, by id (an id queued again after its job was gone counts again). */
  queued: string[];
  /** Adds dropped because the id was taken (`duplicated`) or still in its deduplication window (`deduplicated`). */
  dropped: number;
  /** How each queued job ended, in the order they ended. */
  ends: JobEnd[];
}

/** Queue states in which a job is still to run, or running. */
const BUSY_STATES = ["waiting", "active", "delayed", "prioritized", "waiting-children", "paused"] as const;

/**
 * Counts the jobs in Ferry's queues in every state (finished jobs are kept, so a job a worker
 * already ran still counts) and reads every event of their streams from the first: the way a test
 * proves a request queued nothing, or waits for the job that would have acted to finish or be
 * dropped before asserting that it did not act.
 */
export class JobCounter {
  private readonly seen: SeenEvent[] = [];

  private constructor(
    private readonly redis: RedisClient,
    /** Each of Ferry's queues in every group the layout has. */
    private readonly queues: Array<{ name: FerryQueue; queue: Queue }>,
    private readonly streams: QueueEvents[],
  ) {
    for (const stream of streams) {
      const record = (event: string) => (args: Record<string, unknown>) =>
        this.seen.push({ queue: stream.name, event, args });
      for (const event of ["added", "completed", "failed", "duplicated", "deduplicated"] as const)
        stream.on(event, record(event));
    }
  }

  /**
   * Opens the queues (of every group, on a Redis Cluster) on the Redis at `url` or `target`, and
   * reads their event streams from the start (so no event is missed however late it is read).
   */
  static open(target: string | RedisTarget): JobCounter {
    const resolved: RedisTarget = typeof target === "string" ? { kind: "url", url: target } : target;
    const redis = openRedis(resolved);
    const prefixes = queueLayout(resolved).consumed();
    const settings = (prefix: string | undefined) => ({
      connection: redis,
      ...(prefix === undefined ? {} : { prefix }),
    });
    const queues = prefixes.flatMap((prefix) =>
      FERRY_QUEUES.map((name) => ({ name, queue: new Queue(name, settings(prefix)) })),
    );
    const streams = prefixes.flatMap((prefix) =>
      FERRY_QUEUES.map((name) => new QueueEvents(name, { ...settings(prefix), lastEventId: "0-0" })),
    );
    for (const stream of streams) stream.on("error", () => undefined);
    return new JobCounter(redis, queues, streams);
  }

  /** Jobs per queue (deploy, plan, command, rollout, release) over every group, whatever their state. */
  async counts(): Promise<number[]> {
    const each = await Promise.all(
      this.queues.map(async ({ name, queue }) => ({
        name,
        n: Object.values(await queue.getJobCounts()).reduce((a, b) => a + b, 0),
      })),
    );
    return FERRY_QUEUES.map((name) => each.filter((e) => e.name === name).reduce((sum, e) => sum + e.n, 0));
  }

  /** Jobs in all of Ferry's queues, whatever their state. */
  async total(): Promise<number> {
    return (await this.counts()).reduce((a, b) => a + b, 0);
  }

  /** Waits until no job is waiting, delayed or running in any queue (a job that queues another counts until that one ran too). */
  async settled(timeoutMs: number): Promise<void> {
    let quiet = 0;
    let counts: Array<Record<string, number>> = [];
    await waitUntil(
      () =>
        `jobs still to run or running in ${JSON.stringify(this.queues.map(({ queue }, i) => [queue.qualifiedName, counts[i]]))}`,
      async () => {
        counts = await Promise.all(this.queues.map(({ queue }) => queue.getJobCounts(...BUSY_STATES)));
        const busy = counts.reduce((sum, c) => sum + Object.values(c).reduce((a, b) => a + b, 0), 0);
        // Three quiet looks in a row: a job between one state and the next is not missed.
        quiet = busy === 0 ? quiet + 1 : 0;
        return quiet >= 3;
      },
      timeoutMs,
    );
  }

  /** Waits until job `jobId` of `queue` completed or failed for good, and says how it ended. */
  async finished(queue: FerryQueue, jobId: string, timeoutMs: number): Promise<JobEnd> {
    await waitUntil(
      () => `job ${jobId} of ${queue} did not finish (its events: ${this.describe(queue, [jobId])})`,
      () => this.endsOf(queue, jobId).length > 0,
      timeoutMs,
    );
    return this.endsOf(queue, jobId)[0] as JobEnd;
  }

  /**
   * Waits until `jobIds.length` adds to `queue` under these ids (one per add, repeats included: the
   * ids webhooks were answered with) were each answered, queuing a job or dropped as a duplicate,
   * and every job they queued finished; then says what they became.
   */
  async adds(queue: FerryQueue, jobIds: string[], timeoutMs: number): Promise<AddsOutcome> {
    const ids = new Set(jobIds);
    const outcome = (): AddsOutcome => {
      const mine = this.seen.filter((e) => e.queue === queue && concerns(e, ids));
      return {
        queued: mine.filter((e) => e.event === "added").map((e) => String(e.args.jobId)),
        dropped: mine.filter((e) => e.event === "duplicated" || e.event === "deduplicated").length,
        ends: mine.filter((e) => e.event === "completed" || e.event === "failed").map(toEnd),
      };
    };
    await waitUntil(
      () => `${jobIds.length} adds to ${queue} were not all answered and run (events: ${this.describe(queue, ids)})`,
      () => {
        const { queued, dropped, ends } = outcome();
        return queued.length + dropped >= jobIds.length && ends.length >= queued.length;
      },
      timeoutMs,
    );
    return outcome();
  }

  /** Closes the event streams, the queues and the connection. */
  async close(): Promise<void> {
    await Promise.all(this.streams.map((s) => s.close()));
    await Promise.all(this.queues.map(({ queue }) => queue.close()));
    this.redis.disconnect();
  }

  private endsOf(queue: string, jobId: string): JobEnd[] {
    return this.seen
      .filter((e) => e.queue === queue && e.args.jobId === jobId && (e.event === "completed" || e.event === "failed"))
      .map(toEnd);
  }

  /** The events seen of these jobs, for a timeout's message. */
  private describe(queue: string, ids: Iterable<string>): string {
    const set = new Set(ids);
    return JSON.stringify(
      this.seen.filter((e) => e.queue === queue && concerns(e, set)).map((e) => `${e.event} ${String(e.args.jobId)}`),
    );
  }
}

/** Whether an event is about one of `ids`: a `deduplicated` event names the id asked for in either field. */
function concerns(e: SeenEvent, ids: Set<string>): boolean {
  return [e.args.jobId, e.args.deduplicatedJobId].some((id) => typeof id === "string" && ids.has(id));
}

function toEnd(e: SeenEvent): JobEnd {
  return e.event === "completed"
    ? { state: "completed", returnvalue: e.args.returnvalue }
    : { state: "failed", failedReason: String(e.args.failedReason) };
}
