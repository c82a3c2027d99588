import type { GitLabSimContext } from "./context.js";
import type {
  AwardRecord,
  CommitStatusObject,
  GitLabAccessLevel,
  IssueRecord,
  MergeRequestInput,
  NoteRecord,
  SimProject,
  SimUser,
} from "./model.js";

/** Id offset of the fork a `fromFork` merge request comes from. */
const forkIdOffset = 500_000;

/** GitLab's basic user object. */
export function userJson(user: SimUser, ctx: GitLabSimContext): Record<string, unknown> {
  return {
    id: user.id,
    username: user.username,
    name: user.username,
    state: "active",
    locked: false,
    avatar_url: `${ctx.web}/uploads/-/system/user/avatar/${user.id}/avatar.png`,
    web_url: `${ctx.web}/${user.username}`,
  };
}

/** The merge request's state, defaulting from whether it has a merge commit. */
export function mergeRequestState(mr: MergeRequestInput): NonNullable<MergeRequestInput["state"]> {
  return mr.state ?? (mr.mergeCommitSha === undefined ? "opened" : "merged");
}

/** GitLab's merge request object (the fields clients read, and the usual neighbours). */
export function mergeRequestJson(
  project: SimProject,
  mr: MergeRequestInput,
  author: SimUser,
  ctx: GitLabSimContext,
): Record<string, unknown> {
  const state = mergeRequestState(mr);
  const at = "2024-01-01T00:00:00.000Z";
  const namespace = project.path.slice(0, project.path.length - project.name.length - 1);
  return {
    id: project.id * 10_000 + mr.iid,
    iid: mr.iid,
    project_id: project.id,
    title: mr.title ?? `Merge request !${mr.iid}`,
    description: mr.description ?? "",
    state,
    created_at: at,
    updated_at: at,
    merged_by: null,
    merge_user: null,
    merged_at: state === "merged" ? at : null,
    closed_by: null,
    closed_at: state === "closed" ? at : null,
    target_branch: mr.targetBranch,
    source_branch: mr.sourceBranch,
    user_notes_count: project.notes.filter((n) => n.iid === mr.iid && !n.system).length,
    upvotes: 0,
    downvotes: 0,
    author: userJson(author, ctx),
    assignees: [],
    assignee: null,
    reviewers: [],
    source_project_id: mr.fromFork === true ? project.id + forkIdOffset : project.id,
    target_project_id: project.id,
    labels: [],
    draft: false,
    work_in_progress: false,
    milestone: null,
    merge_when_pipeline_succeeds: false,
    merge_status: "can_be_merged",
    detailed_merge_status: state === "opened" ? "mergeable" : "not_open",
    sha: mr.sha,
    merge_commit_sha: mr.mergeCommitSha ?? null,
    squash_commit_sha: mr.squashCommitSha ?? null,
    discussion_locked: null,
    should_remove_source_branch: null,
    force_remove_source_branch: false,
    reference: `!${mr.iid}`,
    references: { short: `!${mr.iid}`, relative: `!${mr.iid}`, full: `${namespace}/${project.name}!${mr.iid}` },
    web_url: `${ctx.web}/${project.path}/-/merge_requests/${mr.iid}`,
    time_stats: { time_estimate: 0, total_time_spent: 0, human_time_estimate: null, human_total_time_spent: null },
    squash: mr.squashCommitSha !== undefined,
    has_conflicts: false,
    blocking_discussions_resolved: true,
  };
}

/** GitLab's issue object (the fields clients read, and the usual neighbours). */
export function issueJson(
  project: SimProject,
  issue: IssueRecord,
  author: SimUser,
  closedBy: SimUser | null,
  ctx: GitLabSimContext,
): Record<string, unknown> {
  const namespace = project.path.slice(0, project.path.length - project.name.length - 1);
  const self = `${ctx.api}/projects/${project.id}/issues/${issue.iid}`;
  return {
    id: project.id * 10_000 + issue.iid,
    iid: issue.iid,
    project_id: project.id,
    title: issue.title,
    description: issue.description,
    state: issue.state,
    created_at: issue.createdAt,
    updated_at: issue.updatedAt,
    closed_at: issue.closedAt,
    closed_by: closedBy === null ? null : userJson(closedBy, ctx),
    labels: issue.labels,
    milestone: null,
    assignees: [],
    assignee: null,
    author: userJson(author, ctx),
    type: "ISSUE",
    issue_type: "issue",
    user_notes_count: project.issueNotes.filter((n) => n.iid === issue.iid && !n.system).length,
    merge_requests_count: 0,
    upvotes: 0,
    downvotes: 0,
    due_date: null,
    confidential: false,
    discussion_locked: null,
    web_url: `${ctx.web}/${project.path}/-/issues/${issue.iid}`,
    references: {
      short: `#${issue.iid}`,
      relative: `#${issue.iid}`,
      full: `${namespace}/${project.name}#${issue.iid}`,
    },
    time_stats: { time_estimate: 0, total_time_spent: 0, human_time_estimate: null, human_total_time_spent: null },
    has_tasks: false,
    task_completion_status: { count: 0, completed_count: 0 },
    _links: {
      self,
      notes: `${self}/notes`,
      award_emoji: `${self}/award_emoji`,
      project: `${ctx.api}/projects/${project.id}`,
    },
    moved_to_id: null,
    severity: "UNKNOWN",
  };
}

/** GitLab's note object, on a merge request unless `noteableType` says otherwise. */
export function noteJson(
  project: SimProject,
  note: NoteRecord,
  author: SimUser,
  ctx: GitLabSimContext,
  noteableType: "MergeRequest" | "Issue" = "MergeRequest",
): Record<string, unknown> {
  return {
    id: note.id,
    type: null,
    body: note.body,
    attachment: null,
    author: userJson(author, ctx),
    created_at: note.createdAt,
    updated_at: note.updatedAt,
    system: note.system,
    noteable_id: project.id * 10_000 + note.iid,
    noteable_type: noteableType,
    project_id: project.id,
    noteable_iid: note.iid,
    resolvable: false,
    confidential: false,
    internal: false,
    commands_changes: {},
  };
}

/** GitLab's award emoji object. */
export function awardJson(
  note: NoteRecord,
  award: AwardRecord,
  user: SimUser,
  ctx: GitLabSimContext,
): Record<string, unknown> {
  return {
    id: award.id,
    name: award.name,
    user: userJson(user, ctx),
    created_at: note.updatedAt,
    updated_at: note.updatedAt,
    awardable_id: note.id,
    awardable_type: "Note",
  };
}

/** GitLab's commit status object. */
export function statusJson(
  status: CommitStatusObject,
  author: SimUser,
  ctx: GitLabSimContext,
): Record<string, unknown> {
  return {
    id: status.id,
    sha: status.sha,
    ref: status.ref,
    status: status.status,
    name: status.name,
    target_url: status.targetUrl,
    description: status.description,
    created_at: status.createdAt,
    started_at: status.startedAt,
    finished_at: status.finishedAt,
    allow_failure: false,
    coverage: null,
    pipeline_id: status.pipelineId,
    author: userJson(author, ctx),
  };
}

/** GitLab's project member object. */
export function memberJson(user: SimUser, level: GitLabAccessLevel, ctx: GitLabSimContext): Record<string, unknown> {
  return {
    ...userJson(user, ctx),
    access_level: level,
    created_at: "2024-01-01T00:00:00.000Z",
    expires_at: null,
    membership_state: "active",
  };
}
