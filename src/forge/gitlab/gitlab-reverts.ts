import type { Gitlab, MergeRequestSchema } from "@gitbeaker/rest";
import { forgeCall } from "../forge-call.js";
import type { ForgeRefusal, MergeResult, MergedChange, RevertChange, RevertRequest } from "../types.js";
import { gitlabError, gitlabMessage, gitlabStatus } from "./gitlab-error.js";

/**
 * Accept answers that are GitLab refusing, not failing (docs.gitlab.com/api/merge_requests#merge-a-merge-request):
 * 401 the user may not merge (a protected branch), 405 not mergeable (merge checks: approvals, pipeline,
 * draft, closed), 406 and 422 branch cannot be merged (conflicts), 409 the sha is not the source's head.
 */
const MERGE_REFUSALS = new Set([401, 405, 406, 409, 422]);

/** What `GitLabReverts` is built from. */
export interface GitLabRevertsOptions {
  /** A gitbeaker client authenticated with Ferry's token (scope `api`, Developer or more on the project). */
  api: Gitlab;
  /** The project's id, or its path with namespace. */
  project: number | string;
  /** The token's username (lower-cased): only merge requests it opened count as Ferry's reverts. */
  botUsername: string;
}

/** Reading a merged merge request, reverting it onto a new branch with a merge request, and merging one. */
export class GitLabReverts {
  private readonly api: Gitlab;
  private readonly project: number | string;
  private readonly bot: string;

  /** Binds the client to one project. */
  constructor(options: GitLabRevertsOptions) {
    this.api = options.api;
    this.project = options.project;
    this.bot = options.botUsername.toLowerCase();
  }

  /** `GET /projects/:id/merge_requests/:iid`: the merge request when merged, with the commit it left on its target. */
  async mergedChange(change: number): Promise<MergedChange | undefined> {
    const mr = await this.call(`reading merge request !${change}`, () =>
      this.api.MergeRequests.show(this.project, change),
    );
    if (mr.state !== "merged") return undefined;
    return {
      number: mr.iid,
      title: mr.title,
      baseBranch: mr.target_branch,
      mergeSha: mr.merge_commit_sha || mr.squash_commit_sha || mr.sha,
      url: mr.web_url,
    };
  }

  /**
   * The open merge request of Ferry's user into the target branch whose description holds
   * `request.marker`, else: `POST /projects/:id/repository/branches` (`ferry/revert-<iid>` from the
   * target branch), `POST /projects/:id/repository/commits/:sha/revert` onto it (GitLab reverts a merge
   * commit against its first parent; a revert it cannot make is a 400 whose message is returned as the
   * refusal, and the branch is deleted again), then `POST /projects/:id/merge_requests`.
   */
  async revertChange(change: MergedChange, request: RevertRequest): Promise<RevertChange | ForgeRefusal> {
    const open = await this.openRevert(change, request.marker);
    if (open !== undefined) return open;
    const branch = `ferry/revert-${change.number}`;
    const reverted = await this.revertOnto(branch, change);
    if ("refused" in reverted) return reverted;
    const mr = await this.call(`opening the revert of !${change.number}`, () =>
      this.api.MergeRequests.create(this.project, branch, change.baseBranch, request.title, {
        description: request.body,
        removeSourceBranch: true,
      }),
    );
    return { number: mr.iid, url: mr.web_url, headSha: reverted.sha, branch, created: true };
  }

  /** `PUT /projects/:id/merge_requests/:iid/merge` with `sha` = `headSha`; GitLab's refusals are returned in its words. */
  async mergeChange(change: number, headSha: string): Promise<MergeResult> {
    try {
      const mr = await this.api.MergeRequests.accept(this.project, change, { sha: headSha });
      return { merged: true, sha: mr.merge_commit_sha || mr.squash_commit_sha || mr.sha };
    } catch (error) {
      const status = gitlabStatus(error);
      if (status !== undefined && MERGE_REFUSALS.has(status))
        return { merged: false, refused: `${status} ${gitlabMessage(error) ?? "refused"}` };
      throw gitlabError(error, `merging !${change}`);
    }
  }

  /**
   * Makes `branch` off the target branch and reverts the change's commit onto it. A branch left by an
   * earlier attempt is kept, and reverted onto only when its head is not the revert already.
   */
  private async revertOnto(branch: string, change: MergedChange): Promise<{ sha: string } | ForgeRefusal> {
    const doing = `reverting ${change.mergeSha.slice(0, 7)} (!${change.number}) onto ${branch}`;
    const existing = await this.branchHead(branch);
    // GitLab words a revert "This reverts merge request !<iid>" when the commit merged one, else "This reverts commit <sha>".
    const done = [`This reverts merge request !${change.number}`, `This reverts commit ${change.mergeSha}`];
    if (existing !== undefined && done.some((words) => existing.message.includes(words))) return { sha: existing.sha };
    if (existing === undefined)
      await this.call(`creating branch ${branch}`, () =>
        this.api.Branches.create(this.project, branch, change.baseBranch),
      );
    try {
      const commit = await this.api.Commits.revert(this.project, change.mergeSha, branch);
      return { sha: commit.id };
    } catch (error) {
      if (gitlabStatus(error) !== 400) throw gitlabError(error, doing);
      await this.call(`deleting branch ${branch}`, () => this.api.Branches.remove(this.project, branch));
      return { refused: gitlabMessage(error) ?? "400 Bad Request" };
    }
  }

  /** The head of `branch` with its message, or undefined when there is no such branch. */
  private async branchHead(branch: string): Promise<{ sha: string; message: string } | undefined> {
    try {
      const { commit } = await this.api.Branches.show(this.project, branch);
      return { sha: commit.id, message: typeof commit.message === "string" ? commit.message : "" };
    } catch (error) {
      if (gitlabStatus(error) === 404) return undefined;
      throw gitlabError(error, `reading branch ${branch}`);
    }
  }

  /** Ferry's open merge request into the change's target branch whose description holds `marker`. */
  private async openRevert(change: MergedChange, marker: string): Promise<RevertChange | undefined> {
    const mrs: MergeRequestSchema[] = await this.call(`listing the open merge requests into ${change.baseBranch}`, () =>
      this.api.MergeRequests.all({
        projectId: this.project,
        state: "opened",
        targetBranch: change.baseBranch,
        perPage: 100,
      }),
    );
    const found = mrs.find(
      (mr) => mr.author.username.toLowerCase() === this.bot && (mr.description ?? "").includes(marker),
    );
    return found === undefined
      ? undefined
      : { number: found.iid, url: found.web_url, headSha: found.sha, branch: found.source_branch, created: false };
  }

  private call<T>(doing: string, run: () => Promise<T>): Promise<T> {
    return forgeCall(doing, run, gitlabError);
  }
}
