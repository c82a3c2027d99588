import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import type { WebhookDefinition } from "@octokit/webhooks-examples";
import { sign } from "@octokit/webhooks-methods";
import { defaultInstallationId } from "./github-simulator.js";

/** Name of a GitHub webhook event, e.g. "pull_request". */
export type WebhookName = WebhookDefinition["name"];

/** Payload type of an event, across all its actions. */
export type WebhookPayload<E extends WebhookName> = WebhookDefinition<E>["examples"][number];

/** Payload type of an event narrowed to one action (no narrowing when `A` is undefined). */
export type WebhookPayloadFor<E extends WebhookName, A extends string | undefined> = A extends string
  ? Extract<WebhookPayload<E>, { action: A }>
  : WebhookPayload<E>;

/** A `pull_request` `closed` payload. */
export type PullRequestClosedPayload = WebhookPayloadFor<"pull_request", "closed">;

/** A `push` payload. */
export type PushPayload = WebhookPayload<"push">;

/** The real example payloads GitHub documents, as published by @octokit/webhooks-examples. */
const definitions = createRequire(import.meta.url)("@octokit/webhooks-examples") as WebhookDefinition[];

/** The repository every example payload is about. */
const exampleFullName = "Codertocat/Hello-World";

/** The all-zero sha GitHub uses for a ref that did not exist (or no longer exists). */
export const zeroSha = "0000000000000000000000000000000000000000";

/**
 * A deep copy of the first example payload for `event` (and `action`, when the event has actions),
 * with `edit` applied to it.
 */
export function githubPayload<E extends WebhookName, A extends string | undefined = undefined>(
  event: E,
  action?: A,
  edit?: (payload: WebhookPayloadFor<E, A>) => void,
): WebhookPayloadFor<E, A> {
  const definition = definitions.find((d) => d.name === event);
  const examples: unknown[] = definition?.examples ?? [];
  const example = examples.find((e) => action === undefined || actionOf(e) === action);
  if (example === undefined)
    throw new Error(`no webhook example for ${event}${action === undefined ? "" : `.${action}`}`);
  const payload = structuredClone(example) as WebhookPayloadFor<E, A>;
  edit?.(payload);
  return payload;
}

/** Options for `mergedPullRequest`. */
export interface MergedPullRequestOptions {
  /** Repository "owner/name". */
  repo: string;
  /** Pull request number. */
  number: number;
  /** Base branch the pull request merged into. */
  base: string;
  /** Head commit sha. */
  headSha: string;
  /** Head branch name (default `feature-<number>`). */
  headRef?: string;
  /** Sha of the merge commit on the base branch. */
  mergeCommitSha: string;
  /** Login of the user who merged. */
  mergedBy: string;
  /** Login of the author (default: `mergedBy`). */
  author?: string;
  /** Title (default "Pull request #<number>"). */
  title?: string;
  /** Installation id (default: the simulator's default). */
  installationId?: number;
}

/** A `pull_request` `closed` payload for a merged pull request (the examples have none merged). */
export function mergedPullRequest(opts: MergedPullRequestOptions): PullRequestClosedPayload {
  return githubPayload("pull_request", "closed", (payload) => {
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
    retargetPullRequest(payload, { ...opts, author: opts.author ?? opts.mergedBy, sender: opts.mergedBy });
    const pr = payload.pull_request;
    pr.state = "closed";
    pr.merged = true;
    pr.merged_at = now;
    pr.closed_at = now;
    pr.merge_commit_sha = opts.mergeCommitSha;
    pr.merged_by = { ...pr.user, login: opts.mergedBy };
  });
}

/** Pull request actions that ask Ferry for a plan. */
export type PullRequestPlanAction = "opened" | "synchronize" | "reopened";

/** A `pull_request` payload for one of the actions Ferry plans on. */
export type PullRequestPlanPayload = WebhookPayloadFor<"pull_request", PullRequestPlanAction>;

/** Options for `pullRequestEvent`. */
export interface PullRequestEventOptions {
  /** Repository "owner/name" the pull request is on. */
  repo: string;
  /** `opened`, `synchronize` (a push to the head) or `reopened`. */
  action: PullRequestPlanAction;
  /** Pull request number. */
  number: number;
  /** Head commit sha. */
  headSha: string;
  /** Base branch. */
  base: string;
  /** Head branch name (default `feature-<number>`). */
  headRef?: string;
  /** Whether the head lives in a fork (`fork-owner/<name>`) rather than in `repo` (default false). */
  fromFork?: boolean;
  /** Login of the author (default "octo-author"). */
  author?: string;
  /** Login of the user whose action sent the event (default: the author). */
  sender?: string;
  /** Installation id (default: the simulator's default). */
  installationId?: number;
}

/** An open pull request's `opened`, `synchronize` or `reopened` payload, from GitHub's example for the action. */
export function pullRequestEvent(opts: PullRequestEventOptions): PullRequestPlanPayload {
  const payload: PullRequestPlanPayload = githubPayload("pull_request", opts.action);
  const author = opts.author ?? "octo-author";
  retargetPullRequest(payload, { ...opts, author, sender: opts.sender ?? author });
  if (opts.fromFork === true) {
    const [, name = ""] = opts.repo.split("/");
    const head = payload.pull_request.head;
    const fork = `fork-owner/${name}`;
    head.label = `fork-owner:${head.ref}`;
    if (head.repo !== null) head.repo = { ...renamedRepository(head.repo, fork), fork: true };
  }
  return payload;
}

/** An `issue_comment` `created` payload. */
export type IssueCommentCreatedPayload = WebhookPayloadFor<"issue_comment", "created">;

/** Options for `issueCommentEvent`. */
export interface IssueCommentEventOptions {
  /** Repository "owner/name". */
  repo: string;
  /** Number of the pull request (or issue) commented on. */
  number: number;
  /** Comment body. */
  body: string;
  /** Login of the comment's author, also the event's sender. */
  user: string;
  /** The author's account type (default "User"; Ferry's own comments are "Bot"). */
  userType?: "User" | "Bot";
  /** Comment id (default 5000 + number). */
  commentId?: number;
  /** Whether the number is a pull request rather than a plain issue (default true). */
  pullRequest?: boolean;
  /** Installation id (default: the simulator's default). */
  installationId?: number;
}

/** A new comment on a pull request (the examples' comments are all on plain issues, so one is added). */
export function issueCommentEvent(opts: IssueCommentEventOptions): IssueCommentCreatedPayload {
  return githubPayload("issue_comment", "created", (payload) => {
    setRepository(payload, opts.repo, opts.installationId ?? defaultInstallationId);
    const commentId = opts.commentId ?? 5000 + opts.number;
    const example = payload.issue.number;
    Object.assign(payload.issue, renumbered(payload.issue, opts.repo, example, opts.number));
    Object.assign(payload.comment, renumbered(payload.comment, opts.repo, example, opts.number));
    const issue = payload.issue;
    const comment = payload.comment;
    issue.number = opts.number;
    issue.id = 20_000 + opts.number;
    comment.url = comment.url.replace(/\/comments\/\d+$/, `/comments/${commentId}`);
    comment.id = commentId;
    comment.body = opts.body;
    comment.user = { ...comment.user, login: opts.user, type: opts.userType ?? "User" };
    if (opts.pullRequest === false) {
      delete issue.pull_request;
    } else {
      const web = `https://github.com/${opts.repo}/pull/${opts.number}`;
      issue.html_url = web;
      issue.pull_request = {
        url: `https://api.github.com/repos/${opts.repo}/pulls/${opts.number}`,
        html_url: web,
        diff_url: `${web}.diff`,
        patch_url: `${web}.patch`,
        merged_at: null,
      };
    }
    comment.html_url = `${issue.html_url}#issuecomment-${commentId}`;
    payload.sender = { ...payload.sender, login: opts.user, type: opts.userType ?? "User" };
  });
}

/** Options for `pushEvent`. */
export interface PushEventOptions {
  /** Repository "owner/name". */
  repo: string;
  /** Pushed ref: a full ref (`refs/heads/main`) or a branch name. */
  ref: string;
  /** Sha before the push (`zeroSha` when the ref was created). */
  before: string;
  /** Sha after the push (`zeroSha` when the ref was deleted). */
  after: string;
  /** Login of the pusher. */
  pusher: string;
  /** Head commit message (default "Update"). */
  message?: string;
  /** Installation id (default: the simulator's default). */
  installationId?: number;
}

/** A `push` payload for a branch push. */
export function pushEvent(opts: PushEventOptions): PushPayload {
  const definition = definitions.find((d) => d.name === "push");
  const examples: unknown[] = definition?.examples ?? [];
  const branchPush = examples.find(
    (e) => isObject(e) && String(e["ref"]).startsWith("refs/heads/") && "installation" in e,
  );
  const template = structuredClone(branchPush ?? githubPayload("push")) as PushPayload;
  const ref = opts.ref.startsWith("refs/") ? opts.ref : `refs/heads/${opts.ref}`;
  const deleted = opts.after === zeroSha;
  setRepository(template, opts.repo, opts.installationId ?? defaultInstallationId);
  template.ref = ref;
  template.before = opts.before;
  template.after = opts.after;
  template.created = opts.before === zeroSha;
  template.deleted = deleted;
  template.forced = false;
  template.base_ref = null;
  template.compare = `https://github.com/${opts.repo}/compare/${opts.before.slice(0, 12)}...${opts.after.slice(0, 12)}`;
  template.pusher = { name: opts.pusher, email: `${opts.pusher}@users.noreply.github.com` };
  template.sender = { ...template.sender, login: opts.pusher };
  const commit = template.head_commit ?? template.commits[0];
  if (deleted || commit === undefined) {
    template.head_commit = null;
    template.commits = [];
  } else {
    const head = {
      ...commit,
      id: opts.after,
      message: opts.message ?? "Update",
      url: `https://github.com/${opts.repo}/commit/${opts.after}`,
    };
    template.head_commit = head;
    template.commits = [{ ...head }];
  }
  return template;
}

/** What `sendGitHubWebhook` delivers. */
export interface WebhookDelivery {
  /** Event name, sent as X-GitHub-Event. */
  event: string;
  /** Payload, serialized once; the signature covers exactly these bytes. */
  payload: unknown;
  /** Webhook secret shared with the receiver. */
  secret: string;
  /** X-GitHub-Delivery (default: a random UUID). */
  deliveryId?: string;
  /** Receiver path (default `/api/github/webhooks`, Probot's). */
  path?: string;
}

/** POSTs a webhook signed the way GitHub signs it (X-Hub-Signature-256) and returns the response. */
export async function sendGitHubWebhook(
  baseUrl: string,
  delivery: WebhookDelivery,
): Promise<{ status: number; body: string }> {
  const body = JSON.stringify(delivery.payload);
  const response = await fetch(`${baseUrl.replace(/\/+$/, "")}${delivery.path ?? "/api/github/webhooks"}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "user-agent": "GitHub-Hookshot/ferry-test",
      "x-github-event": delivery.event,
      "x-github-delivery": delivery.deliveryId ?? randomUUID(),
      "x-hub-signature-256": await sign(delivery.secret, body),
    },
    body,
  });
  return { status: response.status, body: await response.text() };
}

/** A repository object as webhook payloads carry it. */
type Repository = PushPayload["repository"];

/** The payload parts that name a repository and the app installation. */
interface RepositoryPayload {
  repository: Repository;
  installation?: PushPayload["installation"];
}

/** Points a payload at `fullName` and the installation, as the simulator serves them. */
export function setRepository(payload: RepositoryPayload, fullName: string, installationId: number): void {
  payload.repository = renamedRepository(payload.repository, fullName);
  payload.installation = {
    id: installationId,
    node_id: Buffer.from(`023:Installation${installationId}`).toString("base64"),
  };
}

/** What `retargetPullRequest` sets on an example pull request payload. */
interface PullRequestTarget {
  repo: string;
  number: number;
  base: string;
  headSha: string;
  headRef?: string;
  title?: string;
  author: string;
  sender: string;
  installationId?: number;
}

/** Points an example pull request payload at `opts.repo`, renumbered and renamed (URLs included), with its head and base set. */
function retargetPullRequest(payload: WebhookPayload<"pull_request">, opts: PullRequestTarget): void {
  const headRef = opts.headRef ?? `feature-${opts.number}`;
  const [owner = ""] = opts.repo.split("/");
  const example = payload.pull_request;
  setRepository(payload, opts.repo, opts.installationId ?? defaultInstallationId);
  // Renumber and rename every URL in the example pull request before setting the fields.
  Object.assign(
    example,
    renumbered(example, opts.repo, example.number, opts.number, [
      `/statuses/${example.head.sha}`,
      `/statuses/${opts.headSha}`,
    ]),
  );
  const pr = payload.pull_request;
  payload.number = opts.number;
  pr.number = opts.number;
  pr.id = 10_000 + opts.number;
  pr.title = opts.title ?? `Pull request #${opts.number}`;
  pr.user = { ...pr.user, login: opts.author };
  pr.base.ref = opts.base;
  pr.base.label = `${owner}:${opts.base}`;
  pr.head.ref = headRef;
  pr.head.label = `${owner}:${headRef}`;
  pr.head.sha = opts.headSha;
  pr.base.repo = renamedRepository(pr.base.repo, opts.repo);
  if (pr.head.repo !== null) pr.head.repo = renamedRepository(pr.head.repo, opts.repo);
  payload.sender = { ...payload.sender, login: opts.sender };
}

/** A copy of `value` with the example repository's name and the issue number `from` in its URLs replaced (plus one extra replacement). */
function renumbered<T>(value: T, fullName: string, from: number, to: number, extra: [string, string] = ["", ""]): T {
  let json = JSON.stringify(value).replace(
    new RegExp(`${exampleFullName}/(pulls|pull|issues)/${from}\\b`, "g"),
    `${fullName}/$1/${to}`,
  );
  if (extra[0] !== "") json = json.replaceAll(extra[0], extra[1]);
  return JSON.parse(json.replaceAll(exampleFullName, fullName)) as T;
}

/** A copy of an example repository object renamed to `fullName`, URLs included. */
export function renamedRepository(example: Repository, fullName: string): Repository {
  const repository = JSON.parse(JSON.stringify(example).replaceAll(exampleFullName, fullName)) as Repository;
  const [owner = "", name = ""] = fullName.split("/");
  repository.full_name = fullName;
  repository.name = name;
  repository.owner.login = owner;
  if (repository.owner.name !== undefined) repository.owner.name = owner;
  repository.html_url = `https://github.com/${fullName}`;
  repository.default_branch = "main";
  if (repository.master_branch !== undefined) repository.master_branch = "main";
  return repository;
}

function actionOf(example: unknown): unknown {
  return isObject(example) ? example["action"] : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}
