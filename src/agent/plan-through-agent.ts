import { randomUUID } from "node:crypto";
import type { EnvironmentPlan } from "../plan/types.js";
import type { AgentQueues } from "./agent-queues.js";
import type { AgentPlanRequest } from "./agent-release-request.js";
import { followAgentJob } from "./follow-agent-job.js";

/** A plan is tried twice on the agent (the plan job itself retries too), and kept an hour unread. */
const PLAN_JOB_OPTIONS = {
  attempts: 2,
  backoff: { type: "exponential", delay: 2000 },
  removeOnComplete: { age: 3600 },
  removeOnFail: { age: 3600 },
};

/**
 * Plans one environment on an agent cluster: its agent compares the objects rendered centrally with
 * its live cluster (dry-runs, nothing written) and returns the plan, live diffs included. An agent
 * unseen for `timeoutMs` gives a plan whose error says it was unreachable.
 */
export async function planThroughAgent(
  agents: AgentQueues,
  request: AgentPlanRequest,
  timeoutMs: number,
): Promise<EnvironmentPlan> {
  const { queue, keys } = agents.of(request.cluster);
  const jobId = `plan-${request.sha.slice(0, 12)}-${randomUUID()}`;
  await queue.add("plan", request, { ...PLAN_JOB_OPTIONS, jobId });
  const followed = await followAgentJob({ redis: agents.redis, queue, keys, jobId, timeoutMs });
  const failed = (error: string): EnvironmentPlan => ({
    environment: request.env.name,
    cluster: request.cluster,
    sha: request.sha,
    objects: [],
    counts: { create: 0, update: 0, delete: 0, unchanged: 0 },
    error,
  });
  if (followed.kind === "unreachable") return failed(followed.error);
  const plan = followed.result as EnvironmentPlan | undefined;
  if (plan && Array.isArray(plan.objects)) return plan;
  return failed(`the agent could not plan: ${followed.failedReason || "no reason given"}`);
}
