import type { Job } from "bullmq";
import { transient } from "../errors.js";
import { lastSighting, readHeartbeat } from "./agent-heartbeat.js";
import { cancelKey, type AgentKeys } from "./agent-keys.js";
import type { AgentQueue } from "./agent-queues.js";
import type { AgentCancel, AgentJobData, AgentJobResult, AgentProgress } from "./agent-release-request.js";
import type { RedisClient } from "../queue/redis-connection.js";

/** How following an agent's job ended. */
export type FollowedJob =
  /** The agent finished it: its return value, or (failed for good) BullMQ's reason. */
  | { kind: "finished"; result?: AgentJobResult; failedReason: string }
  /** The agent was not seen for the timeout: the job is marked abandoned (and removed unless an agent holds it). */
  | { kind: "unreachable"; error: string };

/** What {@link followAgentJob} watches and tells. */
export interface FollowOptions {
  redis: RedisClient;
  queue: AgentQueue;
  keys: AgentKeys;
  jobId: string;
  /** How long the agent may go unseen (`agentTimeout`). */
  timeoutMs: number;
  /** Called with each new progress description the agent reports. */
  onProgress?(description: string): void;
  /** Once this fires, the job is marked cancelled with `why()` (the agent then stops waiting for health). */
  cancel?: { signal: AbortSignal; why(): AgentCancel };
  /** Longest pause between looks at the job (default 1 s). */
  maxPollMs?: number;
}

/** How long a cancel mark stays for an agent that comes back late. */
const CANCEL_TTL_MS = 7 * 24 * 3600 * 1000;

/**
 * Follows an agent's job until it finishes or its agent is unseen for `timeoutMs`: one read of the
 * job every 100 ms, backing off to a second, and one of the agent's heartbeat, the time unseen
 * counted from central Ferry's last sighting of the agent (`lastSighting`), not from this follow's
 * start. A finished job is
 * removed once read (its result lives on in the caller's records), with its cancel mark.
 */
export async function followAgentJob(options: FollowOptions): Promise<FollowedJob> {
  const { redis, queue, keys, jobId } = options;
  const { sighting, remember } = await lastSighting(redis, keys, Date.now());
  const mark = (why: AgentCancel) => redis.set(cancelKey(keys, jobId), JSON.stringify(why), "PX", CANCEL_TTL_MS);
  let told = false;
  let reported = "";
  for (let pollMs = 100; ; pollMs = Math.min(pollMs * 2, options.maxPollMs ?? 1_000)) {
    const job: Job<AgentJobData, AgentJobResult> | undefined = await queue.getJob(jobId);
    if (!job) throw transient(`the agent job ${jobId} of cluster ${keys.cluster} is gone (removed by hand?)`);
    if (job.finishedOn !== undefined) {
      await Promise.all([job.remove().catch(() => undefined), redis.del(cancelKey(keys, jobId))]);
      const result = job.returnvalue as AgentJobResult | null | undefined;
      return { kind: "finished", ...(result ? { result } : {}), failedReason: job.failedReason ?? "" };
    }
    const description = (job.progress as Partial<AgentProgress> | undefined)?.description;
    if (typeof description === "string" && description !== reported) {
      reported = description;
      options.onProgress?.(description);
    }
    if (options.cancel?.signal.aborted && !told) {
      told = true;
      await mark(options.cancel.why());
    }
    if (sighting.look(await readHeartbeat(redis, keys), Date.now())) await remember();
    if (sighting.unseenFor(Date.now()) > options.timeoutMs) {
      const seconds = Math.round(options.timeoutMs / 1000);
      const error = `unreachable: the agent of cluster ${keys.cluster} was not seen for ${seconds}s (agentTimeout)`;
      await mark({ kind: "abandoned", reason: error });
      // A job still waiting goes; one an agent holds stays until it lapses, and then only meets the mark.
      await job.remove().catch(() => undefined);
      return { kind: "unreachable", error };
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
