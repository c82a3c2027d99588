import type { NewerRolloutWatch } from "../rollout/watch-for-newer-rollout.js";
import type { AgentQueues } from "./agent-queues.js";
import type { AgentOutcome, AgentReleaseRequest } from "./agent-release-request.js";
import { followAgentJob } from "./follow-agent-job.js";

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
}

/** How long an agent's release is tried, and kept once finished (central Ferry removes it once read). */
const RELEASE_JOB_OPTIONS = {
  attempts: 5,
  backoff: { type: "exponential", delay: 2000 },
  removeOnComplete: { age: 24 * 3600 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/**
 * Releases one cluster through its agent: queue the request in the agent's own queue (once per
 * job id) → follow the job, passing its progress on, until it finishes → its outcome. Nothing here
 * talks to the cluster. An agent unseen for `timeoutMs` ends the release `unreachable`
 * (the job is marked cancelled, so an agent that returns later leaves the cluster alone). A newer
 * rollout marks it superseded, which ends the agent's health wait as it ends a central one. A
 * failed outcome may name the commit to roll back to (`rollbackTo`), which the caller renders.
 */
export async function releaseThroughAgent(input: ThroughAgentInput): Promise<AgentOutcome> {
  const { agents, request, jobId } = input;
  const { queue, keys } = agents.of(request.cluster);
  await queue.add("release", request, { ...RELEASE_JOB_OPTIONS, jobId });
  const followed = await followAgentJob({
    redis: agents.redis,
    queue,
    keys,
    jobId,
    timeoutMs: input.timeoutMs,
    onProgress: (description) => input.progress(description),
    cancel: {
      signal: input.newer.signal,
      why: () => ({ kind: "superseded", by: input.newer.newer() ?? request.sha }),
    },
  });
  if (followed.kind === "unreachable") return { kind: "unreachable", sha: request.sha, error: followed.error };
  const outcome = followed.result as AgentOutcome | undefined;
  if (outcome && typeof outcome.kind === "string") return outcome;
  return { kind: "failed", sha: request.sha, error: `the agent failed: ${followed.failedReason || "no reason given"}` };
}
