import type { Job } from "bullmq";
import type { ClusterOutcome } from "../domain/release.js";
import { transient } from "../errors.js";
import type { NewerRolloutWatch } from "../rollout/watch-for-newer-rollout.js";
import { AgentSighting, readHeartbeat } from "./agent-heartbeat.js";
import { cancelKey } from "./agent-keys.js";
import type { AgentQueues } from "./agent-queues.js";
import type { AgentCancel, AgentOutcome, AgentProgress, AgentReleaseRequest } from "./agent-release-request.js";

/** What {@link releaseThroughAgent} needs. */
export interface ThroughAgentInput {
  agents: AgentQueues;
  request: AgentReleaseRequest;
  /** The agent job's id: one per (rollout, cluster), so a retried central job finds the job it added. */
  jobId: string;
  /** How long the agent may go unseen before the cluster is `unreachable` (`agentTimeout`). */
  timeoutMs: number;
  /** Posts the agent's progress as the running status. */
  progress(description: string): void;
  /** Fires when a newer rollout took the environment; the agent is then told to stop waiting. */
  newer: NewerRolloutWatch;
  /** Longest pause between looks at the job (default 1 s). */
  maxPollMs?: number;
}

/** How long an agent's job is tried, and kept once finished (central Ferry removes it once read). */
const AGENT_JOB_OPTIONS = {
  attempts: 5,
  backoff: { type: "exponential", delay: 2000 },
  removeOnComplete: { age: 24 * 3600 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/** How long a cancel mark stays for an agent that comes back late. */
const CANCEL_TTL_MS = 7 * 24 * 3600 * 1000;

/**
 * Releases one cluster through its agent: queue the request in the agent's own queue (once per
 * job id) → follow the job, passing its progress on, until it finishes → its outcome. Nothing here
 * talks to the cluster. While the job waits or runs, the agent's heartbeat is watched: an agent
 * unseen for `timeoutMs` ends the release `failed` and `unreachable` (the job is marked cancelled, so
 * an agent that returns later leaves the cluster alone). A newer rollout marks it superseded, which
 * ends the agent's health wait as it ends a central one.
 */
export async function releaseThroughAgent(input: ThroughAgentInput): Promise<ClusterOutcome> {
  const { agents, request, jobId } = input;
  const { queue, keys } = agents.of(request.cluster);
  const redis = agents.redis;
  await queue.add("release", request, { ...AGENT_JOB_OPTIONS, jobId });
  const sighting = new AgentSighting(await readHeartbeat(redis, keys), Date.now());
  const cancel = (why: AgentCancel) => redis.set(cancelKey(keys, jobId), JSON.stringify(why), "PX", CANCEL_TTL_MS);
  let told = false;
  let posted = "";
  for (let pollMs = 100; ; pollMs = Math.min(pollMs * 2, input.maxPollMs ?? 1_000)) {
    const job: Job<AgentReleaseRequest, AgentOutcome> | undefined = await queue.getJob(jobId);
    if (!job) throw transient(`the agent job ${jobId} of cluster ${request.cluster} is gone (removed by hand?)`);
    if (job.finishedOn !== undefined) {
      const outcome = finished(job, request);
      await Promise.all([job.remove().catch(() => undefined), redis.del(cancelKey(keys, jobId))]);
      return outcome;
    }
    const description = (job.progress as Partial<AgentProgress> | undefined)?.description;
    if (typeof description === "string" && description !== posted) {
      posted = description;
      input.progress(description);
    }
    if (input.newer.signal.aborted && !told) {
      told = true;
      await cancel({ kind: "superseded", by: input.newer.newer() ?? request.sha });
    }
    sighting.look(await readHeartbeat(redis, keys), Date.now());
    if (sighting.unseenFor(Date.now()) > input.timeoutMs) {
      const seconds = Math.round(input.timeoutMs / 1000);
      const error = `unreachable: the agent of cluster ${request.cluster} was not seen for ${seconds}s (agentTimeout)`;
      await cancel({ kind: "abandoned", reason: error });
      // A job still waiting goes; one an agent holds stays until it lapses, and then only meets the mark.
      await job.remove().catch(() => undefined);
      return { kind: "failed", sha: request.sha, error, unreachable: true };
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** How a finished agent job ended: the outcome the agent returned, or the failure BullMQ recorded. */
function finished(job: Job<AgentReleaseRequest, AgentOutcome>, request: AgentReleaseRequest): ClusterOutcome {
  const outcome = job.returnvalue as AgentOutcome | null | undefined;
  if (outcome && typeof outcome === "object" && typeof outcome.kind === "string") return outcome;
  return { kind: "failed", sha: request.sha, error: `the agent failed: ${job.failedReason || "no reason given"}` };
}
