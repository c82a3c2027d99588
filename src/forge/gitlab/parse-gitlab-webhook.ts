import { z } from "zod";
import { field, stringField } from "../untyped-fields.js";
import { MalformedPayloadError, parsePayload } from "../malformed-payload-error.js";
import { commentCommandIntent } from "../comment-command.js";
import type { RepoRef } from "../../domain/repo.js";
import type { WebhookIntent } from "../../domain/requests.js";

/** What the GitLab parser needs to know besides the payload. */
export interface GitLabWebhookOptions {
  /** The username Ferry's token acts as; its own notes never run commands. */
  botUsername?: string;
}

/** The `X-Gitlab-Event` values Ferry acts on. */
export const GITLAB_EVENTS = { mergeRequest: "Merge Request Hook", push: "Push Hook", note: "Note Hook" } as const;

/** Marks Ferry writes into its own notes (`<!-- ferry:plan -->`); a note holding one is Ferry's, whoever GitLab says wrote it. */
const FERRY_MARKER = "<!-- ferry:";

const ZERO_SHA = /^0+$/;

const project = z.object({
  id: z.number().int(),
  path_with_namespace: z.string().min(1),
});
const user = z.object({ username: z.string().min(1) });

/** Merge request actions that leave a new head to plan (`update` only when it brought commits). */
const planActions = ["open", "reopen", "update"] as const;

const mergeRequestEvent = z.object({
  user,
  project,
  object_attributes: z.object({
    iid: z.number().int(),
    target_branch: z.string().min(1),
    source_project_id: z.number().int().nullable().optional(),
    target_project_id: z.number().int(),
    last_commit: z.object({ id: z.string().min(1) }),
    merge_commit_sha: z.string().nullable().optional(),
    squash_commit_sha: z.string().nullable().optional(),
    // Present on `update` only when the update pushed commits: the head before the push.
    oldrev: z.string().nullable().optional(),
  }),
});

const pushEvent = z.object({
  ref: z.string().min(1),
  after: z.string().min(1),
  // Tag pushes and older payloads lack the username; the display name stands in.
  user_username: z.string().min(1).optional(),
  user_name: z.string(),
  project,
});

const noteEvent = z.object({
  user,
  project,
  object_attributes: z.object({
    id: z.number().int(),
    note: z.string(),
    noteable_type: z.string(),
    system: z.boolean().optional(),
    // GitLab 15.9+ says `create` or `update`; older payloads have no action (always a new note).
    action: z.string().optional(),
  }),
  merge_request: z.object({ iid: z.number().int() }).optional(),
});

/**
 * Turns a verified GitLab webhook (`X-Gitlab-Event`, its payload) into a forge-neutral intent;
 * nothing past this function sees the raw payload. Throws MalformedPayloadError when an event
 * Ferry acts on lacks the fields it needs.
 */
export function parseGitLabWebhook(
  event: string,
  deliveryId: string,
  payload: unknown,
  options: GitLabWebhookOptions = {},
): WebhookIntent {
  if (event === GITLAB_EVENTS.mergeRequest) return mergeRequestIntent(deliveryId, payload);
  if (event === GITLAB_EVENTS.push) return pushIntent(deliveryId, payload);
  if (event === GITLAB_EVENTS.note) return noteIntent(deliveryId, payload, options);
  return { kind: "ignore", reason: `Ferry does not act on ${event}` };
}

/** The project a payload names, as jobs carry it. */
export function gitlabRepoRef(p: { project: { id: number; path_with_namespace: string } }): RepoRef {
  return { forge: "gitlab", fullName: p.project.path_with_namespace, projectId: p.project.id };
}

/** A merged merge request deploys its target branch; an opened, reopened or pushed-to one is planned at its new head. */
function mergeRequestIntent(deliveryId: string, payload: unknown): WebhookIntent {
  const action = actionOf(payload);
  const what = `Merge Request Hook${action === undefined ? "" : `.${action}`}`;
  if (action === "merge") return mergedIntent(deliveryId, parsePayload(mergeRequestEvent, payload, what));
  if (action === undefined || !(planActions as readonly string[]).includes(action))
    return { kind: "ignore", reason: `Ferry does not act on ${what}` };
  const p = parsePayload(mergeRequestEvent, payload, what);
  const mr = p.object_attributes;
  if (action === "update" && !mr.oldrev) return { kind: "ignore", reason: "merge request updated without new commits" };
  return {
    kind: "plan",
    request: {
      repo: gitlabRepoRef(p),
      change: mr.iid,
      headSha: mr.last_commit.id,
      baseBranch: mr.target_branch,
      actor: p.user.username,
      deliveryId,
      // A deleted fork leaves no source project, which is still not this one.
      fromFork: mr.source_project_id !== mr.target_project_id,
    },
  };
}

/**
 * The target branch at the commit the merge left on it: the merge commit, the squash commit of a
 * squashed fast-forward merge, or the head itself after a plain fast-forward merge.
 */
function mergedIntent(deliveryId: string, p: z.output<typeof mergeRequestEvent>): WebhookIntent {
  const mr = p.object_attributes;
  return {
    kind: "deploy",
    request: {
      repo: gitlabRepoRef(p),
      branch: mr.target_branch,
      sha: mr.merge_commit_sha || mr.squash_commit_sha || mr.last_commit.id,
      actor: p.user.username,
      deliveryId,
      change: mr.iid,
    },
  };
}

/** A push to a branch deploys the branch at the pushed commit. */
function pushIntent(deliveryId: string, payload: unknown): WebhookIntent {
  const p = parsePayload(pushEvent, payload, "Push Hook");
  if (!p.ref.startsWith("refs/heads/")) return { kind: "ignore", reason: `push to ${p.ref} is not a branch` };
  if (ZERO_SHA.test(p.after)) return { kind: "ignore", reason: "branch deleted" };
  return {
    kind: "deploy",
    request: {
      repo: gitlabRepoRef(p),
      branch: p.ref.slice("refs/heads/".length),
      sha: p.after,
      actor: p.user_username ?? p.user_name,
      deliveryId,
    },
  };
}

/** A person's new note on a merge request, open, closed or merged, with a `/ferry plan|continue|abort|heal|rollback` line becomes a command. */
function noteIntent(deliveryId: string, payload: unknown, options: GitLabWebhookOptions): WebhookIntent {
  const p = parsePayload(noteEvent, payload, "Note Hook");
  const note = p.object_attributes;
  if (note.noteable_type !== "MergeRequest")
    return { kind: "ignore", reason: `note is on a ${note.noteable_type}, not a merge request` };
  if (note.action !== undefined && note.action !== "create")
    return { kind: "ignore", reason: `note ${note.action}d, not new` };
  if (note.system === true) return { kind: "ignore", reason: "system note" };
  // Ferry never answers its own notes: by author when the bot is known, and by its markers always.
  const bot = options.botUsername?.toLowerCase();
  if (bot !== undefined && p.user.username.toLowerCase() === bot)
    return { kind: "ignore", reason: `note by Ferry (${p.user.username})` };
  if (note.note.includes(FERRY_MARKER)) return { kind: "ignore", reason: "note written by Ferry" };
  if (p.merge_request === undefined)
    throw new MalformedPayloadError("Note Hook payload: merge_request: missing on a merge request note");
  return commentCommandIntent(
    note.note,
    { repo: gitlabRepoRef(p), change: p.merge_request.iid, commentId: note.id, user: p.user.username, deliveryId },
    "note",
  );
}

/**
 * The project a GitLab payload is about (`project.path_with_namespace`, which every event Ferry
 * acts on carries), read before the token is checked because each project may have its own secret.
 */
export function gitlabProjectPath(payload: unknown): string | undefined {
  const path = field(field(payload, "project"), "path_with_namespace");
  return typeof path === "string" && path !== "" ? path : undefined;
}

function actionOf(payload: unknown): string | undefined {
  return stringField(field(payload, "object_attributes"), "action");
}
