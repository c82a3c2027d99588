import { createHash } from "node:crypto";
import type { CommentRecord, IssueRecord, LabelRecord, PullRequestInput, SimRepo, StatusRecord } from "./model.js";

/** Base URLs GitHub objects link to: `web` is the server root, `api` is `<web>/api/v3`. */
export interface Urls {
  /** Web root, e.g. `http://127.0.0.1:PORT`. */
  web: string;
  /** REST API root, e.g. `http://127.0.0.1:PORT/api/v3`. */
  api: string;
}

/** A stable numeric id for a login, so the same user always has the same id. */
export function userId(login: string): number {
  return createHash("sha256").update(login.toLowerCase()).digest().readUInt32BE(0) % 100_000_000;
}

/** GitHub's "simple user" object. */
export function userJson(login: string, urls: Urls): Record<string, unknown> {
  const id = userId(login);
  return {
    login,
    id,
    node_id: Buffer.from(`04:User${id}`).toString("base64"),
    avatar_url: `${urls.web}/avatars/u/${id}`,
    gravatar_id: "",
    url: `${urls.api}/users/${encodeURIComponent(login)}`,
    html_url: `${urls.web}/${encodeURIComponent(login)}`,
    type: login.endsWith("[bot]") ? "Bot" : "User",
    site_admin: false,
  };
}

/** GitHub's repository object (the subset clients read). */
export function repoJson(repo: SimRepo, urls: Urls): Record<string, unknown> {
  return {
    id: repo.id,
    node_id: Buffer.from(`010:Repository${repo.id}`).toString("base64"),
    name: repo.name,
    full_name: repo.fullName,
    private: true,
    owner: userJson(repo.owner, urls),
    html_url: `${urls.web}/${repo.fullName}`,
    url: `${urls.api}/repos/${repo.fullName}`,
    fork: false,
    default_branch: "main",
    visibility: "private",
  };
}

/** A pull request's GraphQL node id (GitHub's are opaque; the simulator's name the repository and number). */
export function pullNodeId(repo: SimRepo, number: number): string {
  return `PR_${Buffer.from(`${repo.id}:${number}`).toString("base64url")}`;
}

/** GitHub's pull request object. */
export function pullJson(repo: SimRepo, pr: PullRequestInput, urls: Urls): Record<string, unknown> {
  const merged = pr.merged ?? false;
  const state = pr.state ?? (merged ? "closed" : "open");
  const repository = repoJson(repo, urls);
  return {
    id: repo.id * 10_000 + pr.number,
    node_id: pullNodeId(repo, pr.number),
    number: pr.number,
    state,
    locked: false,
    title: pr.title ?? `Pull request #${pr.number}`,
    body: pr.body ?? null,
    user: userJson(pr.user, urls),
    url: `${urls.api}/repos/${repo.fullName}/pulls/${pr.number}`,
    html_url: `${urls.web}/${repo.fullName}/pull/${pr.number}`,
    issue_url: `${urls.api}/repos/${repo.fullName}/issues/${pr.number}`,
    draft: false,
    merged,
    merged_at: merged ? "2024-01-01T00:00:00Z" : null,
    closed_at: state === "closed" ? "2024-01-01T00:00:00Z" : null,
    merge_commit_sha: pr.mergeCommitSha ?? null,
    head: headJson(repo, pr, repository, urls),
    base: {
      label: `${repo.owner}:${pr.baseRef}`,
      ref: pr.baseRef,
      sha: pr.mergeCommitSha ?? pr.headSha,
      user: userJson(repo.owner, urls),
      repo: repository,
    },
    author_association: "MEMBER",
  };
}

/** A pull request's `head`: in the repository itself, in a fork, or in a deleted fork (`repo: null`). */
function headJson(
  repo: SimRepo,
  pr: PullRequestInput,
  repository: Record<string, unknown>,
  urls: Urls,
): Record<string, unknown> {
  const headRepo = pr.headRepo === undefined ? repo.fullName : pr.headRepo;
  const [owner = repo.owner, name = repo.name] = headRepo?.split("/") ?? [];
  const own = headRepo !== null && headRepo.toLowerCase() === repo.fullName.toLowerCase();
  const forkJson =
    headRepo === null || own
      ? null
      : {
          ...repository,
          id: repo.id + 500_000,
          node_id: Buffer.from(`010:Repository${repo.id + 500_000}`).toString("base64"),
          name,
          full_name: headRepo,
          owner: userJson(owner, urls),
          html_url: `${urls.web}/${headRepo}`,
          url: `${urls.api}/repos/${headRepo}`,
          fork: true,
        };
  return {
    label: `${owner}:${pr.headRef}`,
    ref: pr.headRef,
    sha: pr.headSha,
    user: userJson(owner, urls),
    repo: own ? repository : forkJson,
  };
}

/** GitHub's label object. */
export function labelJson(repo: SimRepo, label: LabelRecord, urls: Urls): Record<string, unknown> {
  return {
    id: label.id,
    node_id: Buffer.from(`03:Label${label.id}`).toString("base64"),
    url: `${urls.api}/repos/${repo.fullName}/labels/${encodeURIComponent(label.name)}`,
    name: label.name,
    description: null,
    color: label.color,
    default: false,
  };
}

/** GitHub's issue object for an issue. */
export function issueJson(repo: SimRepo, issue: IssueRecord, bot: string, urls: Urls): Record<string, unknown> {
  return {
    ...issueShape(repo, issue.number, urls),
    state: issue.state,
    state_reason: issue.stateReason,
    title: issue.title,
    body: issue.body,
    user: userJson(issue.user, urls),
    labels: labelsJson(repo, issue.labels, urls),
    comments: repo.comments.filter((c) => c.issueNumber === issue.number).length,
    created_at: issue.created_at,
    updated_at: issue.updated_at,
    closed_at: issue.closed_at,
    closed_by: issue.state === "closed" ? userJson(bot, urls) : null,
    html_url: `${urls.web}/${repo.fullName}/issues/${issue.number}`,
  };
}

/** A pull request as the issues endpoints show it: an issue with a `pull_request` key. */
export function pullAsIssueJson(repo: SimRepo, pr: PullRequestInput, urls: Urls): Record<string, unknown> {
  const pull = pullJson(repo, pr, urls);
  return {
    ...issueShape(repo, pr.number, urls),
    state: pull["state"],
    state_reason: null,
    title: pull["title"],
    body: pr.body ?? null,
    user: pull["user"],
    labels: labelsJson(repo, pr.labels ?? [], urls),
    comments: repo.comments.filter((c) => c.issueNumber === pr.number).length,
    created_at: "2024-01-01T00:00:00Z",
    updated_at: "2024-01-01T00:00:00Z",
    closed_at: pull["closed_at"],
    closed_by: null,
    html_url: pull["html_url"],
    pull_request: {
      url: pull["url"],
      html_url: pull["html_url"],
      diff_url: `${String(pull["html_url"])}.diff`,
      patch_url: `${String(pull["html_url"])}.patch`,
      merged_at: pull["merged_at"],
    },
  };
}

/** What every issue object has whatever it is. */
function issueShape(repo: SimRepo, number: number, urls: Urls): Record<string, unknown> {
  const url = `${urls.api}/repos/${repo.fullName}/issues/${number}`;
  return {
    id: repo.id * 10_000 + number,
    node_id: Buffer.from(`05:Issue${repo.id * 10_000 + number}`).toString("base64"),
    url,
    repository_url: `${urls.api}/repos/${repo.fullName}`,
    labels_url: `${url}/labels{/name}`,
    comments_url: `${url}/comments`,
    events_url: `${url}/events`,
    number,
    locked: false,
    active_lock_reason: null,
    assignee: null,
    assignees: [],
    milestone: null,
    author_association: "NONE",
    performed_via_github_app: null,
  };
}

function labelsJson(repo: SimRepo, names: string[], urls: Urls): Array<Record<string, unknown>> {
  return names.flatMap((name) => {
    const label = repo.labels.get(name.toLowerCase());
    return label === undefined ? [] : [labelJson(repo, label, urls)];
  });
}

/** GitHub's issue comment object. */
export function commentJson(repo: SimRepo, comment: CommentRecord, urls: Urls): Record<string, unknown> {
  return {
    id: comment.id,
    node_id: Buffer.from(`012:IssueComment${comment.id}`).toString("base64"),
    url: `${urls.api}/repos/${repo.fullName}/issues/comments/${comment.id}`,
    html_url: `${urls.web}/${repo.fullName}/pull/${comment.issueNumber}#issuecomment-${comment.id}`,
    issue_url: `${urls.api}/repos/${repo.fullName}/issues/${comment.issueNumber}`,
    body: comment.body,
    user: userJson(comment.user, urls),
    created_at: comment.created_at,
    updated_at: comment.updated_at,
    author_association: "NONE",
    performed_via_github_app: null,
    reactions: reactionSummary(repo, comment, urls),
  };
}

/** GitHub's commit status object. */
export function statusJson(repo: SimRepo, status: StatusRecord, urls: Urls): Record<string, unknown> {
  return {
    id: status.id,
    node_id: Buffer.from(`013:StatusContext${status.id}`).toString("base64"),
    url: `${urls.api}/repos/${repo.fullName}/statuses/${status.sha}`,
    avatar_url: null,
    state: status.state,
    description: status.description,
    target_url: status.target_url,
    context: status.context,
    created_at: status.created_at,
    updated_at: status.created_at,
    creator: userJson(status.creator, urls),
  };
}

function reactionSummary(repo: SimRepo, comment: CommentRecord, urls: Urls): Record<string, unknown> {
  const count = (content: string): number => comment.reactions.filter((r) => r === content).length;
  return {
    url: `${urls.api}/repos/${repo.fullName}/issues/comments/${comment.id}/reactions`,
    total_count: comment.reactions.length,
    "+1": count("+1"),
    "-1": count("-1"),
    laugh: count("laugh"),
    confused: count("confused"),
    heart: count("heart"),
    hooray: count("hooray"),
    rocket: count("rocket"),
    eyes: count("eyes"),
  };
}

/** Current time as GitHub formats it (ISO 8601 without milliseconds). */
export function timestamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** GitHub's JSON error body. */
export function errorJson(
  status: number,
  message: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    message,
    ...extra,
    documentation_url: "https://docs.github.com/enterprise-server@3.14/rest",
    status: String(status),
  };
}
