import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { gitlabUserId, type GitLabProjectRef } from "./gitlab-simulator/model.js";

/** Where the real GitLab payloads live: `shared/fixtures/gitlab/` beside the repository root (see its README). */
const fixturesDir = new URL("../../../shared/fixtures/gitlab/", import.meta.url);

/** The fixture files, by the event they hold. */
export const gitlabFixtureFiles = {
  mergeRequest: "gitlab-docs.merge_request.open.json",
  push: "gitlab-docs.push.json",
  tagPush: "gitlab-docs.tag_push.json",
  mergeRequestNote: "gitlab-docs.note.merge_request.json",
  commitNote: "gitlab-docs.note.commit.json",
  goMergeRequest: "go-gitlab.merge_request.json",
  goPush: "go-gitlab.push.json",
  goMergeRequestNote: "go-gitlab.note.merge_request.json",
} as const;

/** A JSON object as the fixtures hold them. */
export type GitLabPayload = Record<string, unknown>;

/** A fresh copy of a fixture file's payload, to edit. */
export function gitlabFixture(file: string): GitLabPayload {
  return JSON.parse(readFileSync(new URL(file, fixturesDir), "utf8")) as GitLabPayload;
}

/** The all-zero sha GitLab sends for a ref that did not exist or was deleted. */
export const zeroSha = "0000000000000000000000000000000000000000";

/** Merge request actions the builder makes. */
export type MergeRequestAction = "open" | "reopen" | "update" | "merge" | "close";

/** Options for `gitlabMergeRequestEvent`. */
export interface MergeRequestEventOptions {
  /** The project, as `GitLabSimulator.addProject` returns it. */
  project: GitLabProjectRef;
  /** The merge request's iid. */
  iid: number;
  /** What happened (`update` with `oldrev` is a push of new commits). */
  action: MergeRequestAction;
  /** Source branch. */
  sourceBranch: string;
  /** Target branch. */
  targetBranch: string;
  /** The head commit (`last_commit.id`). */
  lastCommitSha: string;
  /** The merge commit, for `merge`. */
  mergeCommitSha?: string;
  /** The head before an `update` that pushed commits (GitLab sends it only then). */
  oldrev?: string;
  /** Whether the source branch is in a fork (another project). */
  fromFork?: boolean;
  /** Username of who acted. */
  user: string;
}

/** A `Merge Request Hook` payload, from GitLab's documented example with the fields the test names set. */
export function gitlabMergeRequestEvent(opts: MergeRequestEventOptions): GitLabPayload {
  const payload = retargeted(gitlabFixture(gitlabFixtureFiles.mergeRequest), opts.project);
  setUser(payload, opts.user);
  const mr = objectAt(payload, "object_attributes");
  const sourceProjectId = opts.fromFork === true ? opts.project.id + 500_000 : opts.project.id;
  const web = webUrl(opts.project);
  Object.assign(mr, {
    id: opts.project.id * 10_000 + opts.iid,
    iid: opts.iid,
    action: opts.action,
    state: { open: "opened", reopen: "opened", update: "opened", merge: "merged", close: "closed" }[opts.action],
    source_branch: opts.sourceBranch,
    target_branch: opts.targetBranch,
    source_project_id: sourceProjectId,
    target_project_id: opts.project.id,
    url: `${web}/-/merge_requests/${opts.iid}`,
    merge_commit_sha: opts.mergeCommitSha ?? null,
  });
  if (opts.oldrev !== undefined) mr["oldrev"] = opts.oldrev;
  const lastCommit = objectAt(mr, "last_commit");
  lastCommit["id"] = opts.lastCommitSha;
  lastCommit["url"] = `${web}/-/commit/${opts.lastCommitSha}`;
  mr["source"] =
    opts.fromFork === true
      ? { ...projectJson(opts.project), path_with_namespace: `fork-owner/${projectName(opts.project)}` }
      : projectJson(opts.project);
  mr["target"] = projectJson(opts.project);
  for (const list of [mr["labels"], payload["labels"]]) {
    if (Array.isArray(list))
      for (const label of list) Object.assign(label as GitLabPayload, { project_id: opts.project.id });
  }
  return payload;
}

/** Options for `gitlabPushEvent`. */
export interface PushEventOptions {
  /** The project. */
  project: GitLabProjectRef;
  /** A full ref (`refs/heads/main`) or a branch name. */
  ref: string;
  /** Sha before the push (`zeroSha` when the branch was created). */
  before: string;
  /** Sha after the push (`zeroSha` when the branch was deleted). */
  after: string;
  /** Username of the pusher. */
  user: string;
}

/** A `Push Hook` payload, from GitLab's documented example with the pushed ref and commits set. */
export function gitlabPushEvent(opts: PushEventOptions): GitLabPayload {
  const payload = retargeted(gitlabFixture(gitlabFixtureFiles.push), opts.project);
  const deleted = opts.after === zeroSha;
  Object.assign(payload, {
    ref: opts.ref.startsWith("refs/") ? opts.ref : `refs/heads/${opts.ref}`,
    before: opts.before,
    after: opts.after,
    checkout_sha: deleted ? null : opts.after,
    user_id: gitlabUserId(opts.user),
    user_name: opts.user,
    user_username: opts.user,
    user_email: `${opts.user}@example.com`,
    project_id: opts.project.id,
  });
  const commits = Array.isArray(payload["commits"]) ? (payload["commits"] as GitLabPayload[]) : [];
  const head = commits.at(-1);
  if (deleted || head === undefined) {
    payload["commits"] = [];
    payload["total_commits_count"] = 0;
  } else {
    payload["commits"] = [{ ...head, id: opts.after, url: `${webUrl(opts.project)}/-/commit/${opts.after}` }];
    payload["total_commits_count"] = 1;
  }
  return payload;
}

/** Options for `gitlabNoteEvent`. */
export interface NoteEventOptions {
  /** The project. */
  project: GitLabProjectRef;
  /** The merge request's iid. */
  iid: number;
  /** The note's text. */
  body: string;
  /** Username of the note's author. */
  user: string;
  /** The note's id (as `GitLabSimulator.addNote` returns it). */
  noteId: number;
  /** The author's user id (default: the simulator's stable id for the username). */
  userId?: number;
  /** The merge request's head commit, when the test cares. */
  lastCommitSha?: string;
}

/** A `Note Hook` payload for a new note on a merge request, from GitLab's documented example. */
export function gitlabNoteEvent(opts: NoteEventOptions): GitLabPayload {
  const payload = retargeted(gitlabFixture(gitlabFixtureFiles.mergeRequestNote), opts.project);
  const userId = opts.userId ?? gitlabUserId(opts.user);
  setUser(payload, opts.user, userId);
  payload["project_id"] = opts.project.id;
  const web = webUrl(opts.project);
  Object.assign(objectAt(payload, "object_attributes"), {
    id: opts.noteId,
    note: opts.body,
    author_id: userId,
    project_id: opts.project.id,
    noteable_id: opts.project.id * 10_000 + opts.iid,
    url: `${web}/-/merge_requests/${opts.iid}#note_${opts.noteId}`,
  });
  const mr = objectAt(payload, "merge_request");
  Object.assign(mr, {
    id: opts.project.id * 10_000 + opts.iid,
    iid: opts.iid,
    source_project_id: opts.project.id,
    target_project_id: opts.project.id,
    source: projectJson(opts.project),
    target: projectJson(opts.project),
  });
  if (opts.lastCommitSha !== undefined)
    Object.assign(objectAt(mr, "last_commit"), {
      id: opts.lastCommitSha,
      url: `${web}/-/commit/${opts.lastCommitSha}`,
    });
  return payload;
}

/** Events `sendGitLabWebhook` delivers. */
export type GitLabEventName = "Merge Request Hook" | "Push Hook" | "Note Hook" | "Tag Push Hook";

/** What `sendGitLabWebhook` delivers. */
export interface GitLabDelivery {
  /** Sent as X-Gitlab-Event. */
  event: GitLabEventName;
  /** The payload, serialized once. */
  payload: unknown;
  /** The webhook's secret token, sent as X-Gitlab-Token; omitted when undefined. */
  token: string | undefined;
  /** The delivery's UUID, sent as X-Gitlab-Event-UUID, X-Gitlab-Webhook-UUID and Idempotency-Key (default: a random one). */
  uuid?: string;
  /** Receiver path (default `/api/gitlab/webhooks`). */
  path?: string;
}

/** POSTs a webhook with the headers GitLab sends and returns the response. */
export async function sendGitLabWebhook(
  baseUrl: string,
  delivery: GitLabDelivery,
): Promise<{ status: number; body: string }> {
  const uuid = delivery.uuid ?? randomUUID();
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": "GitLab/17.5.0",
    "x-gitlab-event": delivery.event,
    "x-gitlab-event-uuid": uuid,
    "x-gitlab-webhook-uuid": uuid,
    "x-gitlab-instance": "https://gitlab.example.com",
    "idempotency-key": uuid,
  };
  if (delivery.token !== undefined) headers["x-gitlab-token"] = delivery.token;
  const response = await fetch(`${baseUrl.replace(/\/+$/, "")}${delivery.path ?? "/api/gitlab/webhooks"}`, {
    method: "POST",
    headers,
    body: JSON.stringify(delivery.payload),
  });
  return { status: response.status, body: await response.text() };
}

/** The example payload with its `project` (and `repository`) pointed at `project`. */
function retargeted(payload: GitLabPayload, project: GitLabProjectRef): GitLabPayload {
  payload["project"] = { ...objectAt(payload, "project"), ...projectJson(project) };
  const repository = objectAt(payload, "repository");
  const web = webUrl(project);
  Object.assign(repository, { name: projectName(project), url: `${web}.git`, homepage: web });
  if ("git_http_url" in repository)
    Object.assign(repository, {
      git_http_url: `${web}.git`,
      git_ssh_url: `git@gitlab.example.com:${project.path}.git`,
    });
  return payload;
}

/** The project fields GitLab's payloads carry. */
function projectJson(project: GitLabProjectRef): GitLabPayload {
  const web = webUrl(project);
  const namespace = project.path.split("/").slice(0, -1).join("/");
  return {
    id: project.id,
    name: projectName(project),
    web_url: web,
    git_ssh_url: `git@gitlab.example.com:${project.path}.git`,
    git_http_url: `${web}.git`,
    namespace,
    path_with_namespace: project.path,
    default_branch: "main",
    homepage: web,
    url: `${web}.git`,
    ssh_url: `git@gitlab.example.com:${project.path}.git`,
    http_url: `${web}.git`,
  };
}

/** Points the payload's `user` at `username`. */
function setUser(payload: GitLabPayload, username: string, id = gitlabUserId(username)): void {
  payload["user"] = { ...objectAt(payload, "user"), id, name: username, username, email: `${username}@example.com` };
}

function projectName(project: GitLabProjectRef): string {
  return project.path.split("/").at(-1) ?? project.path;
}

function webUrl(project: GitLabProjectRef): string {
  return `https://gitlab.example.com/${project.path}`;
}

/** The object at `payload[key]`, which the fixtures always hold. */
function objectAt(payload: GitLabPayload, key: string): GitLabPayload {
  const value = payload[key];
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new Error(`fixture has no object at ${key}`);
  return value as GitLabPayload;
}
