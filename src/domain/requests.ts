import type { RepoRef } from "./repo.js";

/** A merge or push to a deploy branch, as the intake queues it: the worker deploys the branch head. */
export interface DeployRequest {
  repo: RepoRef;
  /** Branch that received the commit. */
  branch: string;
  /** The merged or pushed commit. */
  sha: string;
  /** Who merged or pushed. */
  actor: string;
  /** The forge's delivery id, for logs. */
  deliveryId: string;
  /** The change merged as `sha`, when the event named it. */
  change?: number;
  /** What queued it when no webhook did: `reconcile` (a catch-up of a commit whose webhook never came). */
  trigger?: DeployTrigger;
  /** Environments released even while frozen (`/ferry deploy <env> --override-freeze` by an admin). */
  overrideFreeze?: string[];
  /** A deploy a freeze held back, run again as it ended: its commit already shows a pending status. */
  heldBack?: boolean;
}

/** What queues a deploy besides a webhook: a reconcile that found the branch ahead of the cluster. */
export type DeployTrigger = "reconcile";

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
  /**
   * A re-plan after a release of the base branch (the cluster changed under the plan): statuses and
   * comment are rewritten only when the plan came out different.
   */
  refresh?: boolean;
  /**
   * Set when someone asked the forge to re-run the plan's check (GitHub's "Re-run" on a check run
   * or its suite): the delivery id of that request. The plan runs even when the head was planned
   * (its check runs are new ones, as every plan job's are).
   */
  rerun?: string;
}

/**
 * The comment commands Ferry answers: re-plan a change; end a rollout's pause or approve its next
 * wave; halt a rollout; heal the drift of the environments the change's branch deploys, once; open
 * (and with `--merge`, merge) the revert of a merged change.
 */
export type CommandName = "plan" | "continue" | "abort" | "heal" | "rollback" | "freeze" | "unfreeze" | "deploy";

/**
 * A command a user wrote in a comment on a change, as the intake queues it. The worker checks the
 * user's access and reads the change before acting, since the comment names neither.
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
  command: CommandName;
  /** The environment named after the command, when one was. */
  environment?: string;
  /** What follows the environment on the command's line (`/ferry freeze <env> <duration> <reason>`). */
  args?: string;
  /** `/ferry rollback --merge`: merge the revert too, when the forge lets the app. */
  merge?: boolean;
  /** The forge's delivery id, for logs. */
  deliveryId: string;
}

/**
 * What a forge's webhook asks of Ferry, whichever forge sent it: a deploy, a plan of a change, a
 * command from a comment, or nothing (with the reason it was dropped). Each forge's parser returns
 * one; nothing past the parser sees a raw payload.
 */
export type WebhookIntent =
  | { kind: "deploy"; request: DeployRequest }
  | { kind: "plan"; request: PlanRequest }
  | { kind: "command"; request: CommandRequest }
  | { kind: "ignore"; reason: string };

/** An intent that queues a job: every kind but `ignore`. */
export type QueuedIntent = Exclude<WebhookIntent, { kind: "ignore" }>;
