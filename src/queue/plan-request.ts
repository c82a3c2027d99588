import { createHash } from "node:crypto";
import type { CommandRequest, PlanRequest } from "../domain/requests.js";

/** Name of the queue plan requests go to. */
export const PLAN_QUEUE = "ferry-plan";

/**
 * The job id of a plan request: one per (repository, change, head commit, environment or all), so
 * a redelivered webhook queues one job while a new push or a narrower `/ferry plan <env>` queues
 * another.
 */
export function planJobId(request: Pick<PlanRequest, "repo" | "change" | "headSha" | "environment">): string {
  const key = `${request.repo.forge}\n${request.repo.fullName}\n${request.change}\n${request.headSha}\n${request.environment ?? "*"}`;
  return `plan-${createHash("sha256").update(key).digest("hex").slice(0, 32)}`;
}

/** Name of the queue comment commands go to. */
export const COMMAND_QUEUE = "ferry-command";

/** The job id of a command: one per comment, so a redelivered webhook runs the command once. */
export function commandJobId(request: Pick<CommandRequest, "repo" | "commentId">): string {
  const key = `${request.repo.forge}\n${request.repo.fullName}\n${request.commentId}`;
  return `command-${createHash("sha256").update(key).digest("hex").slice(0, 32)}`;
}
