import { z } from "zod";
import { MalformedPayloadError, parsePayload } from "../malformed-payload-error.js";
import { commentCommandIntent } from "../comment-command.js";
import type { RepoRef } from "../../domain/repo.js";
import type { WebhookIntent } from "../../domain/requests.js";

const repository = z.object({
  full_name: z.string().min(1),
});
const installation = z.object({ id: z.number().int() }).optional();
const sender = z.object({ login: z.string() });

const pullRequestClosed = z.object({
  action: z.literal("closed"),
  installation,
  repository,
  pull_request: z.object({
    number: z.number().int(),
    merged: z.boolean().nullable(),
    merge_commit_sha: z.string().nullable(),
    merged_by: z.object({ login: z.string() }).nullable().optional(),
    base: z.object({ ref: z.string().min(1) }),
  }),
  sender,
});

/** Pull request actions that leave a new head to plan. */
const planActions = ["opened", "synchronize", "reopened"] as const;

const pullRequestUpdated = z.object({
  action: z.enum(planActions),
  installation,
  repository,
  pull_request: z.object({
    number: z.number().int(),
    // GitHub sends `head.repo: null` when the fork the head lives in was deleted.
    head: z.object({ sha: z.string().min(1), repo: z.object({ full_name: z.string().min(1) }).nullable() }),
    base: z.object({ ref: z.string().min(1) }),
  }),
  sender,
});

const push = z.object({
  ref: z.string().min(1),
  after: z.string().min(1),
  deleted: z.boolean().optional(),
  installation,
  repository,
  pusher: z.object({ name: z.string() }).optional(),
  sender,
});

const issueCommentCreated = z.object({
  action: z.literal("created"),
  installation,
  repository,
  issue: z.object({
    number: z.number().int(),
    // Present only when the issue is a pull request.
    pull_request: z.object({}).optional(),
  }),
  comment: z.object({
    id: z.number().int(),
    body: z.string().nullable(),
    user: z.object({ login: z.string(), type: z.string() }),
  }),
  sender,
});

/** A pull request as the Checks API lists it on a run or suite: only those in the repository itself (never a fork's). */
const checkPullRequest = z.object({
  number: z.number().int(),
  head: z.object({ sha: z.string().min(1), repo: z.object({ id: z.number().int() }) }),
  base: z.object({ ref: z.string().min(1), repo: z.object({ id: z.number().int() }) }),
});

const checkRunRerequested = z.object({
  action: z.literal("rerequested"),
  installation,
  repository,
  check_run: z.object({
    name: z.string(),
    head_sha: z.string().min(1),
    pull_requests: z.array(checkPullRequest),
  }),
  sender,
});

const checkSuiteRerequested = z.object({
  action: z.literal("rerequested"),
  installation,
  repository,
  check_suite: z.object({
    head_sha: z.string().min(1),
    pull_requests: z.array(checkPullRequest),
  }),
  sender,
});

/** The names of Ferry's plan checks: `ferry/plan` (the config could not be read) and `ferry/plan/<env>`. */
const PLAN_CHECK = /^ferry\/plan(?:\/(.+))?$/;

const ZERO_SHA = /^0+$/;

/**
 * Turns a verified GitHub webhook into a forge-neutral intent. Nothing past this function sees the
 * raw payload. Throws MalformedPayloadError when an event Ferry acts on lacks the fields it needs.
 */
export function parseGitHubWebhook(event: string, deliveryId: string, payload: unknown): WebhookIntent {
  const action = typeof payload === "object" && payload !== null ? (payload as { action?: unknown }).action : undefined;
  if (event === "pull_request") {
    if (action === "closed") return pullRequestClosedIntent(deliveryId, payload);
    if (typeof action === "string" && (planActions as readonly string[]).includes(action))
      return pullRequestPlanIntent(action, deliveryId, payload);
  }
  if (event === "push") return pushIntent(deliveryId, payload);
  if (event === "issue_comment" && action === "created") return commentIntent(deliveryId, payload);
  if (event === "check_run" && action === "rerequested") return checkRunIntent(deliveryId, payload);
  if (event === "check_suite" && action === "rerequested") return checkSuiteIntent(deliveryId, payload);
  return { kind: "ignore", reason: `Ferry does not act on ${event}${typeof action === "string" ? `.${action}` : ""}` };
}

/** A merged pull request deploys its base branch at the merge commit. */
function pullRequestClosedIntent(deliveryId: string, payload: unknown): WebhookIntent {
  const p = parsePayload(pullRequestClosed, payload, "pull_request.closed");
  if (p.pull_request.merged !== true) return { kind: "ignore", reason: "pull request closed without merging" };
  if (!p.pull_request.merge_commit_sha) throw new MalformedPayloadError("pull_request.merge_commit_sha is missing");
  return {
    kind: "deploy",
    request: {
      repo: repoRef(p),
      branch: p.pull_request.base.ref,
      sha: p.pull_request.merge_commit_sha,
      actor: p.pull_request.merged_by?.login ?? p.sender.login,
      deliveryId,
      change: p.pull_request.number,
    },
  };
}

/** An opened, reopened or pushed-to pull request is planned at its new head. */
function pullRequestPlanIntent(action: string, deliveryId: string, payload: unknown): WebhookIntent {
  const p = parsePayload(pullRequestUpdated, payload, `pull_request.${action}`);
  const head = p.pull_request.head;
  return {
    kind: "plan",
    request: {
      repo: repoRef(p),
      change: p.pull_request.number,
      headSha: head.sha,
      baseBranch: p.pull_request.base.ref,
      actor: p.sender.login,
      deliveryId,
      fromFork: head.repo === null || head.repo.full_name.toLowerCase() !== p.repository.full_name.toLowerCase(),
    },
  };
}

/** A push to a branch deploys the branch at the pushed commit. */
function pushIntent(deliveryId: string, payload: unknown): WebhookIntent {
  const p = parsePayload(push, payload, "push");
  if (!p.ref.startsWith("refs/heads/")) return { kind: "ignore", reason: `push to ${p.ref} is not a branch` };
  if (p.deleted === true || ZERO_SHA.test(p.after)) return { kind: "ignore", reason: "branch deleted" };
  return {
    kind: "deploy",
    request: {
      repo: repoRef(p),
      branch: p.ref.slice("refs/heads/".length),
      sha: p.after,
      actor: p.pusher?.name ?? p.sender.login,
      deliveryId,
    },
  };
}

/** A person's new comment on a pull request, open, closed or merged, with a `/ferry <command>` line (comment-command.ts) becomes a command. */
function commentIntent(deliveryId: string, payload: unknown): WebhookIntent {
  const p = parsePayload(issueCommentCreated, payload, "issue_comment.created");
  if (p.issue.pull_request === undefined)
    return { kind: "ignore", reason: "comment is on an issue, not a pull request" };
  // Bots, Ferry among them, never run commands, so Ferry cannot answer its own comments.
  if (p.comment.user.type === "Bot") return { kind: "ignore", reason: `comment by bot ${p.comment.user.login}` };
  return commentCommandIntent(
    p.comment.body ?? "",
    { repo: repoRef(p), change: p.issue.number, commentId: p.comment.id, user: p.comment.user.login, deliveryId },
    "comment",
  );
}

/**
 * "Re-run" on one of Ferry's plan checks re-plans its environment (all of them for `ferry/plan`), as
 * `/ferry plan [env]` does, on the pull request the run lists. GitHub sends `rerequested` only to
 * the app that made the run, and lists no pull request for a fork's head: such a run is not re-planned.
 */
function checkRunIntent(deliveryId: string, payload: unknown): WebhookIntent {
  const p = parsePayload(checkRunRerequested, payload, "check_run.rerequested");
  const plan = PLAN_CHECK.exec(p.check_run.name);
  if (!plan) return { kind: "ignore", reason: `check run ${p.check_run.name} is not a Ferry plan` };
  return rerunIntent(p, p.check_run.head_sha, p.check_run.pull_requests, deliveryId, plan[1]);
}

/** "Re-run all checks" on a suite holding Ferry's plan checks re-plans every environment of the pull request. */
function checkSuiteIntent(deliveryId: string, payload: unknown): WebhookIntent {
  const p = parsePayload(checkSuiteRerequested, payload, "check_suite.rerequested");
  return rerunIntent(p, p.check_suite.head_sha, p.check_suite.pull_requests, deliveryId, undefined);
}

/** A re-plan of `headSha` on the first pull request the check lists. */
function rerunIntent(
  p: { repository: { full_name: string }; installation?: { id: number } | undefined; sender: { login: string } },
  headSha: string,
  pulls: Array<z.infer<typeof checkPullRequest>>,
  deliveryId: string,
  environment: string | undefined,
): WebhookIntent {
  const pr = pulls.find((candidate) => candidate.head.sha === headSha) ?? pulls[0];
  if (pr === undefined)
    return { kind: "ignore", reason: "the check's commit is the head of no pull request in this repository" };
  return {
    kind: "plan",
    request: {
      repo: repoRef(p),
      change: pr.number,
      headSha,
      baseBranch: pr.base.ref,
      actor: p.sender.login,
      deliveryId,
      fromFork: pr.head.repo.id !== pr.base.repo.id,
      ...(environment === undefined ? {} : { environment }),
      rerun: deliveryId,
    },
  };
}

function repoRef(p: { repository: { full_name: string }; installation?: { id: number } | undefined }): RepoRef {
  return { forge: "github", fullName: p.repository.full_name, installationId: p.installation?.id };
}
