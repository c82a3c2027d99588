import { createHash } from "node:crypto";
import type { RepoRef } from "../forge/types.js";

/** A pull request to plan at its head commit, as the intake queues it. */
export interface PlanRequest {
  repo: RepoRef;
  /** The pull request (GitHub) or merge request (GitLab) number. */
  change: number;
  /** The head commit to plan. */
  headSha: string;
  /** The branch the change would merge into; it picks the environments to plan. */
  baseBranch: string;
  /** Who opened, pushed to or asked to plan the change. */
  actor: string;
  /** The forge's delivery id, for logs. */
  deliveryId: string;
  /** Whether the head lives in another repository; such changes carry code Ferry must not trust. */
  fromFork: boolean;
  /** Plan only this environment (from `/ferry plan <env>`); all of the base branch's when absent. */
  environment?: string;
}

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

/**
 * A command a user wrote in a comment on a change, as the intake queues it. The worker checks the
 * user's access and reads the change's head before acting, since the comment names neither.
 */
export interface CommandRequest {
  repo: RepoRef;
  /** The change the comment is on. */
  change: number;
  /** The comment holding the command, to react to. */
  commentId: number;
  /** Who wrote the comment. */
  user: string;
  /** What the comment asks for. */
  command: "plan";
  /** The environment named after the command, when one was. */
  environment?: string;
  /** The forge's delivery id, for logs. */
  deliveryId: string;
}

/** Name of the queue comment commands go to. */
export const COMMAND_QUEUE = "ferry-command";

/** The job id of a command: one per comment, so a redelivered webhook runs the command once. */
export function commandJobId(request: Pick<CommandRequest, "repo" | "commentId">): string {
  const key = `${request.repo.forge}\n${request.repo.fullName}\n${request.commentId}`;
  return `command-${createHash("sha256").update(key).digest("hex").slice(0, 32)}`;
}
