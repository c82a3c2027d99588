import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type { CommitablePipelineStatus, Gitlab, MergeRequestNoteSchema, MergeRequestSchema } from "@gitbeaker/rest";
import { permanent } from "../../errors.js";
import { forgeCall } from "../forge-call.js";
import { closeMarkedIssue, ensureMarkedIssue } from "../marked-issue.js";
import { trimDescription } from "../trim-description.js";
import type {
  AccessLevel,
  ChangeHead,
  CheckRunReport,
  CommitStatus,
  DeploymentState,
  DeploymentTarget,
  EnsureCommentOptions,
  EnsuredIssue,
  Forge,
  ForgeRefusal,
  MergeResult,
  MergedChange,
  OpenChange,
  Reaction,
  RevertChange,
  RevertRequest,
  StatusState,
} from "../types.js";
import { withMarker } from "../with-marker.js";
import type { RepoRef } from "../../domain/repo.js";
import { GitLabDeployments } from "./gitlab-deployments.js";
import { gitlabError, gitlabMessage, gitlabStatus } from "./gitlab-error.js";
import { GitLabIssues } from "./gitlab-issues.js";
import { GitLabReverts } from "./gitlab-reverts.js";

/** A status description longer than this is cut (GitLab keeps statuses short; 255 is safe on every version). */
const maxDescriptionLength = 255;

/** Ferry's status states in GitLab's words, which are the same but for "failed". */
function gitlabState(state: StatusState): CommitablePipelineStatus {
  return state === "failure" ? "failed" : state;
}

/** Ferry's reactions as GitLab award emoji names. */
const emojiNames = { eyes: "eyes", "+1": "thumbsup", "-1": "thumbsdown" } as const satisfies Record<Reaction, string>;

/** Member access levels (Guest 10, Reporter 20, Developer 30, Maintainer 40, Owner 50) on Ferry's scale. */
function accessFromLevel(level: number): AccessLevel {
  if (level >= 40) return "admin";
  if (level >= 30) return "write";
  if (level >= 10) return "read";
  return "none";
}

/** The part of a commit status GitLab reports that decides whether a post would be a transition. */
interface CurrentStatus {
  status: string;
  description: string | null;
  targetUrl: string | null;
}

/** What a `GitLabForge` is built from. */
export interface GitLabForgeOptions {
  /** A gitbeaker client authenticated with Ferry's token against the GitLab instance. */
  api: Gitlab;
  /** The project; `projectId` is used when known, else `fullName` (the path with namespace). */
  repo: RepoRef;
  /** The username Ferry's token acts as: `ensureComment` edits only notes it wrote, and its statuses are the ones transitioned. */
  botUsername: string;
}

/** The `Forge` for one GitLab project, through the REST API v4 with Ferry's access token. */
export class GitLabForge implements Forge {
  /** The project this forge acts on. */
  readonly repo: RepoRef;
  /** GitLab's limit on a note body. */
  readonly maxCommentLength = 1_000_000;
  /**
   * GitLab refuses an issue description over 1 MiB in bytes (Issuable's `DESCRIPTION_LENGTH_MAX =
   * 1.megabyte`, a bytesize validation); a JavaScript character takes at most 3 bytes in UTF-8 (a
   * surrogate pair, two characters, takes 4), so this many always fit.
   */
  readonly maxIssueBodyLength = Math.floor(1_048_576 / 3);

  private readonly api: Gitlab;
  private readonly project: number | string;
  private readonly bot: string;
  private readonly issues: GitLabIssues;
  private readonly deployments: GitLabDeployments;
  private readonly reverts: GitLabReverts;

  /** Binds the client to one project. */
  constructor(options: GitLabForgeOptions) {
    if (options.repo.forge !== "gitlab")
      throw permanent(`GitLab: cannot act on a ${options.repo.forge} repository (${options.repo.fullName})`);
    this.repo = options.repo;
    this.api = options.api;
    this.project = options.repo.projectId ?? options.repo.fullName;
    this.bot = options.botUsername.toLowerCase();
    this.issues = new GitLabIssues({ api: options.api, project: this.project, botUsername: this.bot });
    this.deployments = new GitLabDeployments({ api: options.api, project: this.project, botUsername: this.bot });
    this.reverts = new GitLabReverts({ api: options.api, project: this.project, botUsername: this.bot });
  }

  /** The commit `branch` points at. */
  async branchHead(branch: string): Promise<string> {
    return this.call(
      `reading branch ${branch}`,
      async () => (await this.api.Branches.show(this.project, branch)).commit.id,
    );
  }

  /** The `tar.gz` archive of `sha`, streamed from GitLab, never buffered whole. */
  async downloadArchive(sha: string): Promise<Readable> {
    return this.call(`downloading the archive of ${short(sha)}`, async () => {
      const body = await this.api.Repositories.showArchive(this.project, { sha, fileType: "tar.gz", asStream: true });
      return Readable.fromWeb(body as WebReadableStream<Uint8Array>);
    });
  }

  /**
   * Sets a commit status, sending only real transitions. GitLab keeps one status per (sha, ref,
   * name, user) while it is pending or running and answers 400 ("Cannot transition status via
   * :run from :running") to a repeated state, or to pending after running; once finished, a post
   * starts a new status. So the latest state is read first and a post is skipped when it would
   * not be a transition: the same pending or running state, pending after running (the status
   * already shows more), or a finished state repeated with the same text.
   */
  async setStatus(sha: string, status: CommitStatus): Promise<void> {
    const state = gitlabState(status.state);
    const wanted = {
      status: state,
      description: trimDescription(status.description, maxDescriptionLength),
      targetUrl: status.targetUrl ?? null,
    };
    const doing = `setting status ${status.context} on ${short(sha)}`;
    const current = await this.call(`reading status ${status.context} of ${short(sha)}`, () =>
      this.currentStatus(sha, status.context),
    );
    if (!isTransition(current, wanted)) return;
    try {
      await this.api.Commits.editStatus(this.project, sha, state, {
        name: status.context,
        description: wanted.description,
        ...(status.targetUrl === undefined ? {} : { targetUrl: status.targetUrl }),
      });
    } catch (error) {
      // Another worker may have moved the status between the read and the post: settled if it now needs no transition.
      if (gitlabStatus(error) === 400 && /^Cannot transition status/.test(gitlabMessage(error) ?? "")) {
        const now = await this.call(`reading status ${status.context} of ${short(sha)}`, () =>
          this.currentStatus(sha, status.context),
        );
        if (!isTransition(now, wanted)) return;
      }
      throw gitlabError(error, doing);
    }
  }

  /** The latest status named `context` that Ferry's user set on `sha` (`failed` and `canceled` read as failure, `created` as pending). */
  async statusOf(sha: string, context: string): Promise<CommitStatus | undefined> {
    const current = await this.call(`reading status ${context} of ${short(sha)}`, () =>
      this.currentStatus(sha, context),
    );
    if (current === undefined) return undefined;
    const state: StatusState =
      current.status === "success"
        ? "success"
        : current.status === "failed" || current.status === "canceled"
          ? "failure"
          : current.status === "running"
            ? "running"
            : "pending";
    return {
      context,
      state,
      description: current.description ?? "",
      ...(current.targetUrl === null ? {} : { targetUrl: current.targetUrl }),
    };
  }

  /** Merge requests merged as `sha` (merge, squash, or fast-forward head), newest first. */
  async changesMergedAs(sha: string): Promise<number[]> {
    return this.call(`finding the merge requests merged as ${short(sha)}`, async () => {
      const mrs = await this.api.Commits.allMergeRequests(this.project, sha, { perPage: 100 });
      return mrs
        .filter((mr) => mr.state === "merged" && mergedAs(mr) === sha)
        .sort((a, b) => (b.merged_at ?? "").localeCompare(a.merged_at ?? "") || b.iid - a.iid)
        .map((mr) => mr.iid);
    });
  }

  /**
   * Edits the first note holding `marker` that Ferry's user wrote, or creates one; the body always
   * holds the marker (prepended when missing), and an unchanged body is not re-sent; with `keep`, an
   * existing one is left as it is.
   */
  async ensureComment(change: number, marker: string, body: string, options: EnsureCommentOptions = {}): Promise<void> {
    const content = withMarker(body, marker);
    const existing = await this.call(`reading the notes of !${change}`, () => this.findOwnNote(change, marker));
    if (existing === undefined) {
      await this.createComment(change, content);
    } else if (existing.body !== content && options.keep !== true) {
      await this.call(`editing note ${existing.id} on !${change}`, () =>
        this.api.MergeRequestNotes.edit(this.project, change, existing.id, { body: content }),
      );
    }
  }

  /** Adds a note to merge request `change` (a 5xx is not retried: see gitlabRequester; `ensureComment` finds a note GitLab created anyway). */
  async createComment(change: number, body: string): Promise<void> {
    await this.call(`commenting on !${change}`, () => this.api.MergeRequestNotes.create(this.project, change, body));
  }

  /** `user`'s access from their (direct or inherited) membership; a user who is no member, or does not exist, has none. */
  async accessLevel(user: string): Promise<AccessLevel> {
    const doing = `reading the access level of ${user}`;
    const users = await this.call(doing, () => this.api.Users.all({ username: user }));
    const found = users.find((u) => u.username.toLowerCase() === user.toLowerCase());
    if (found === undefined) return "none";
    try {
      const member = await this.api.ProjectMembers.show(this.project, found.id, { includeInherited: true });
      return accessFromLevel(member.access_level);
    } catch (error) {
      if (gitlabStatus(error) === 404) return "none";
      throw gitlabError(error, doing);
    }
  }

  /** The merge request's head and target branch; only `opened` counts as open, and a source in another (or a deleted) project is a fork. */
  async openChanges(baseBranch: string): Promise<OpenChange[]> {
    return this.call(`listing the open merge requests into ${baseBranch}`, async () => {
      const mrs = await this.api.MergeRequests.all({
        projectId: this.project,
        state: "opened",
        targetBranch: baseBranch,
        perPage: 100,
      });
      return mrs.map((mr) => ({
        number: mr.iid,
        headSha: mr.sha,
        fromFork: mr.source_project_id !== mr.target_project_id,
        author: mr.author.username,
      }));
    });
  }

  async changeHead(change: number): Promise<ChangeHead> {
    return this.call(`reading merge request !${change}`, async () => {
      const mr = await this.api.MergeRequests.show(this.project, change);
      return {
        sha: mr.sha,
        baseBranch: mr.target_branch,
        open: mr.state === "opened",
        fromFork: mr.source_project_id !== mr.target_project_id,
      };
    });
  }

  /** Awards an emoji to a note on merge request `change`; GitLab's 404 "has already been taken" means it is there already. */
  async react(change: number, commentId: number, reaction: Reaction): Promise<void> {
    const name = emojiNames[reaction];
    try {
      await this.api.MergeRequestNoteAwardEmojis.award(this.project, change, commentId, name);
    } catch (error) {
      if (gitlabStatus(error) === 404 && /has already been taken/.test(gitlabMessage(error) ?? "")) return;
      throw gitlabError(error, `awarding ${name} to note ${commentId} on !${change}`);
    }
  }

  /** The merge request when merged, with the commit it left on its target branch. */
  async mergedChange(change: number): Promise<MergedChange | undefined> {
    return this.reverts.mergedChange(change);
  }

  /** Opens (or finds open) the revert of a merged merge request: a branch, the commit revert API onto it, a merge request. */
  async revertChange(change: MergedChange, request: RevertRequest): Promise<RevertChange | ForgeRefusal> {
    return this.reverts.revertChange(change, request);
  }

  /** Merges a merge request at `headSha`; GitLab's refusals are returned in its words. */
  async mergeChange(change: number, headSha: string): Promise<MergeResult> {
    return this.reverts.mergeChange(change, headSha);
  }

  /** Keeps one open issue holding `marker`, opened by Ferry's user and labelled `ferry-drift` (see `Forge.ensureIssue`). */
  async ensureIssue(marker: string, title: string, body: string): Promise<EnsuredIssue> {
    return ensureMarkedIssue(this.issues, marker, title, body);
  }

  /** Comments on and closes the open issue of Ferry's user holding `marker` (see `Forge.closeIssue`). */
  async closeIssue(marker: string, comment: string): Promise<boolean> {
    return closeMarkedIssue(this.issues, marker, comment);
  }

  /** GitLab has no check runs (its pipeline widget shows commit statuses): always false, so callers set a status. */
  async ensureCheckRun(_sha: string, _run: CheckRunReport): Promise<boolean> {
    return Promise.resolve(false);
  }

  /** Ferry's deployment of the environment at the sha, with the environment made or updated (see `Forge.ensureDeployment`). */
  async ensureDeployment(target: DeploymentTarget): Promise<number> {
    return this.deployments.ensure(target);
  }

  /** Moves the deployment when GitLab's state machine and Ferry's meaning allow it; GitLab deployments have no description, so the details stay on the commit status. */
  async setDeploymentState(id: number, state: DeploymentState): Promise<void> {
    await this.deployments.setState(id, state);
  }

  /** The latest status named `name` on `sha` that Ferry's user posted (GitLab transitions only the poster's own). */
  private async currentStatus(sha: string, name: string): Promise<CurrentStatus | undefined> {
    const statuses = await this.api.Commits.allStatuses(this.project, sha, { name });
    const own = statuses.filter((s) => s.name === name && s.author.username.toLowerCase() === this.bot);
    const latest = own.reduce<(typeof own)[number] | undefined>(
      (found, s) => (found === undefined || s.id > found.id ? s : found),
      undefined,
    );
    return latest === undefined
      ? undefined
      : { status: latest.status, description: latest.description ?? null, targetUrl: latest.target_url ?? null };
  }

  /** The first note on `change` with `marker` that Ferry's user wrote, oldest first, reading page by page. */
  private async findOwnNote(change: number, marker: string): Promise<{ id: number; body: string } | undefined> {
    for (let page: number | null = 1; page !== null;) {
      const { data, paginationInfo }: { data: MergeRequestNoteSchema[]; paginationInfo: { next: number | null } } =
        await this.api.MergeRequestNotes.all(this.project, change, {
          sort: "asc",
          orderBy: "created_at",
          pagination: "offset",
          page,
          perPage: 100,
          showExpanded: true,
        });
      const found = data.find(
        (n) => !n.system && n.body.includes(marker) && n.author.username.toLowerCase() === this.bot,
      );
      if (found !== undefined) return { id: found.id, body: found.body };
      page = paginationInfo.next;
    }
    return undefined;
  }

  /** Runs one GitLab call, turning its failure into a FerryError that says what was being done. */
  private call<T>(doing: string, run: () => Promise<T>): Promise<T> {
    return forgeCall(doing, run, gitlabError);
  }
}

/** Whether posting `wanted` onto the `current` status is a transition GitLab makes (see `setStatus`). */
function isTransition(current: CurrentStatus | undefined, wanted: CurrentStatus): boolean {
  if (current === undefined) return true;
  if (current.status === "pending" || current.status === "running") {
    return current.status !== wanted.status && !(current.status === "running" && wanted.status === "pending");
  }
  return (
    current.status !== wanted.status ||
    current.description !== wanted.description ||
    current.targetUrl !== wanted.targetUrl
  );
}

/** The commit a merged merge request left on its target branch: its merge commit, else its squash commit, else (fast-forward) its head. */
function mergedAs(mr: MergeRequestSchema): string {
  return mr.merge_commit_sha || mr.squash_commit_sha || mr.sha;
}

function short(sha: string): string {
  return sha.slice(0, 7);
}
