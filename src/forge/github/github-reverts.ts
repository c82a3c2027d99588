import type { ProbotOctokit } from "probot";
import { permanent } from "../../errors.js";
import { forgeCall } from "../forge-call.js";
import type { ForgeRefusal, MergeResult, MergedChange, RevertChange, RevertRequest } from "../types.js";
import { field, stringField } from "../untyped-fields.js";
import { githubError, githubStatus } from "./github-error.js";

/**
 * The mutation GitHub's own "Revert" button runs (docs.github.com/graphql/reference/mutations#revertpullrequest):
 * input `pullRequestId` (the pull request's node id), `title`, `body`, `draft`; the payload's
 * `revertPullRequest` is the new pull request (`pullRequest` is the reverted one).
 */
export const REVERT_PULL_REQUEST = `mutation FerryRevert($input: RevertPullRequestInput!) {
  revertPullRequest(input: $input) {
    revertPullRequest { number url headRefName headRefOid }
  }
}`;

/** The new pull request as the mutation returns it. */
interface RevertPayload {
  revertPullRequest: {
    revertPullRequest: { number: number; url: string; headRefName: string; headRefOid: string } | null;
  } | null;
}

/**
 * Merge answers that are GitHub refusing, not failing (docs.github.com/rest/pulls/pulls#merge-a-pull-request):
 * 405 "Pull Request is not mergeable" (branch protection, required checks or reviews, conflicts),
 * 409 "Head branch was modified", 422 validation.
 */
const MERGE_REFUSALS = new Set([405, 409, 422]);

/** What `GitHubReverts` is built from. */
export interface GitHubRevertsOptions {
  /** An Octokit authenticated as the app installation (needs `contents: write` and `pull_requests: write`). */
  octokit: ProbotOctokit;
  /** Repository owner. */
  owner: string;
  /** Repository name. */
  name: string;
  /** The app's bot login: only its pull requests count as Ferry's reverts. */
  botLogin: string;
}

/** Reading a merged pull request, reverting it with GitHub's own mutation, and merging a pull request. */
export class GitHubReverts {
  private readonly octokit: ProbotOctokit;
  private readonly owner: string;
  private readonly name: string;
  private readonly bot: string;

  /** Binds the installation's Octokit to one repository. */
  constructor(options: GitHubRevertsOptions) {
    this.octokit = options.octokit;
    this.owner = options.owner;
    this.name = options.name;
    this.bot = options.botLogin.toLowerCase();
  }

  /** `GET /repos/{owner}/{repo}/pulls/{n}`: the pull request when it was merged. */
  async mergedChange(change: number): Promise<MergedChange | undefined> {
    const pr = await this.pull(change);
    if (!pr.merged || pr.merge_commit_sha === null) return undefined;
    return {
      number: pr.number,
      title: pr.title,
      baseBranch: pr.base.ref,
      mergeSha: pr.merge_commit_sha,
      url: pr.html_url,
    };
  }

  /**
   * The open pull request into the base branch whose body holds `request.marker` (a retried job, a
   * second request), else a new one from `revertPullRequest`. GitHub answers a revert it cannot make
   * with a GraphQL error (HTTP 200, `errors[].message`), which is returned as the refusal.
   */
  async revertChange(change: MergedChange, request: RevertRequest): Promise<RevertChange | ForgeRefusal> {
    const open = await this.openRevert(change, request.marker);
    if (open !== undefined) return open;
    const pr = await this.pull(change.number);
    let payload: RevertPayload;
    try {
      payload = await this.octokit.graphql<RevertPayload>(REVERT_PULL_REQUEST, {
        input: { pullRequestId: pr.node_id, title: request.title, body: request.body, draft: false },
      });
    } catch (error) {
      const refused = graphqlErrors(error);
      if (refused?.forbidden === true)
        throw permanent(
          `GitHub: reverting #${change.number}: ${refused.message} (the GitHub App needs "contents: write" and "pull_requests: write")`,
          { cause: error },
        );
      if (refused !== undefined) return { refused: refused.message };
      throw githubError(error, `reverting #${change.number}`);
    }
    const created = payload.revertPullRequest?.revertPullRequest;
    if (created === null || created === undefined)
      throw permanent(`GitHub: reverting #${change.number}: the answer named no pull request`);
    return {
      number: created.number,
      url: created.url,
      headSha: created.headRefOid,
      branch: created.headRefName,
      created: true,
    };
  }

  /**
   * `PUT /repos/{owner}/{repo}/pulls/{n}/merge` at `headSha` (GitHub's 409 if the head moved); 405/409/422
   * are refusals. Not retried in place: a refusal stays one (Octokit would back off 14 s on a 405), and a 5xx
   * fails the command's job, whose retry answers that the revert is open.
   */
  async mergeChange(change: number, headSha: string): Promise<MergeResult> {
    try {
      const { data } = await this.octokit.rest.pulls.merge({
        owner: this.owner,
        repo: this.name,
        pull_number: change,
        sha: headSha,
        merge_method: "merge",
        request: { retries: 0 },
      });
      return { merged: true, sha: data.sha };
    } catch (error) {
      const status = githubStatus(error);
      if (status !== undefined && MERGE_REFUSALS.has(status)) {
        const message = stringField(field(field(error, "response"), "data"), "message") ?? "refused";
        return { merged: false, refused: `${status} ${message}` };
      }
      throw githubError(error, `merging #${change}`);
    }
  }

  /** The bot's open pull request into the change's base branch whose body holds `marker`. */
  private async openRevert(change: MergedChange, marker: string): Promise<RevertChange | undefined> {
    return this.call(`listing the open pull requests into ${change.baseBranch}`, async () => {
      const pulls = await this.octokit.paginate(this.octokit.rest.pulls.list, {
        owner: this.owner,
        repo: this.name,
        state: "open",
        base: change.baseBranch,
        per_page: 100,
      });
      const found = pulls.find((pr) => pr.user?.login.toLowerCase() === this.bot && pr.body?.includes(marker));
      return found === undefined
        ? undefined
        : {
            number: found.number,
            url: found.html_url,
            headSha: found.head.sha,
            branch: found.head.ref,
            created: false,
          };
    });
  }

  private async pull(change: number) {
    return this.call(`reading pull request #${change}`, async () => {
      const { data } = await this.octokit.rest.pulls.get({ owner: this.owner, repo: this.name, pull_number: change });
      return data;
    });
  }

  private call<T>(doing: string, run: () => Promise<T>): Promise<T> {
    return forgeCall(doing, run, githubError);
  }
}

/**
 * The messages of a GraphQL error answer (Octokit's `GraphqlResponseError`), and whether GitHub
 * refused the app itself (`type: FORBIDDEN`, a missing permission), or undefined for any other failure.
 */
function graphqlErrors(error: unknown): { message: string; forbidden: boolean } | undefined {
  if (field(error, "name") !== "GraphqlResponseError") return undefined;
  const errors = field(error, "errors");
  if (!Array.isArray(errors) || errors.length === 0) return undefined;
  return {
    message: errors.map((e: unknown) => stringField(e, "message") ?? "error").join("; "),
    forbidden: errors.some((e: unknown) => stringField(e, "type") === "FORBIDDEN"),
  };
}
