import { randomUUID } from "node:crypto";
import { transient } from "../errors.js";
import type { Inventory } from "../kube/inventory.js";
import type { AgentQueues } from "./agent-queues.js";
import type {
  AgentInventoryRequest,
  AgentJobData,
  AgentReconcileRequest,
  AgentReconcileResult,
} from "./agent-release-request.js";
import { followAgentJob } from "./follow-agent-job.js";

/** A reconcile's step is tried twice on the agent (the reconcile itself runs again at its interval), kept an hour unread. */
const RECONCILE_JOB_OPTIONS = {
  attempts: 2,
  backoff: { type: "exponential", delay: 2000 },
  removeOnComplete: { age: 3600 },
  removeOnFail: { age: 3600 },
};

/** The agent of a cluster was not seen for `agentTimeout` while a reconcile waited for it: nothing is known of the cluster. */
export class AgentUnreachableError extends Error {
  /** Carries followAgentJob's words (`unreachable: the agent of cluster … was not seen for 60s (agentTimeout)`). */
  constructor(message: string) {
    super(message);
    this.name = "AgentUnreachableError";
  }
}

/** Where a reconcile's steps go: `cluster`'s agent, waited for at most `timeoutMs` unseen (`agentTimeout`). */
export interface ReconcileAgent {
  agents: AgentQueues;
  cluster: string;
  timeoutMs: number;
}

/**
 * A reconcile's first look through the agent: the environment's inventory on its cluster. Throws
 * {@link AgentUnreachableError} when the agent is not seen for the timeout.
 */
export function inventoryThroughAgent(
  to: ReconcileAgent,
  request: Omit<AgentInventoryRequest, "cluster">,
): Promise<Inventory> {
  return ask<Inventory>(to, "inventory", { ...request, cluster: to.cluster });
}

/**
 * A reconcile's check through the agent: it judges its live objects against the render central
 * Ferry sent (and heals them when asked), returning the findings masked. Throws
 * {@link AgentUnreachableError} when the agent is not seen for the timeout.
 */
export function reconcileThroughAgent(
  to: ReconcileAgent,
  request: Omit<AgentReconcileRequest, "cluster">,
): Promise<AgentReconcileResult> {
  return ask<AgentReconcileResult>(to, "reconcile", { ...request, cluster: to.cluster });
}

/** Queues one job in the agent's queue and follows it to its result; a failed job is an error of the same kind. */
async function ask<T>(to: ReconcileAgent, name: string, request: AgentJobData): Promise<T> {
  const { queue, keys } = to.agents.of(to.cluster);
  const jobId = `${name}-${randomUUID()}`;
  await queue.add(name, request, { ...RECONCILE_JOB_OPTIONS, jobId });
  const followed = await followAgentJob({ redis: to.agents.redis, queue, keys, jobId, timeoutMs: to.timeoutMs });
  if (followed.kind === "unreachable") throw new AgentUnreachableError(followed.error);
  if (followed.result !== undefined && followed.result !== null) return followed.result as T;
  const what = name === "inventory" ? "read the inventory" : "check drift";
  // Whatever the agent's error was, the next reconcile (or a retry of this one) may find it gone.
  throw transient(
    `the agent of cluster ${to.cluster} could not ${what}: ${followed.failedReason || "no reason given"}`,
  );
}
