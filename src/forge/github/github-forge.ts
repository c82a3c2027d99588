import { Readable } from "node:stream";
import type { ProbotOctokit } from "probot";
import { isPermanent, permanent } from "../../errors.js";
import { forgeCall } from "../forge-call.js";
import { closeMarkedIssue, ensureMarkedIssue } from "../marked-issue.js";
import { trimDescription } from "../trim-description.js";
import type {
  AccessLevel,
  ChangeHead,
  CheckRunReport,
  CommitStatus,
  DeploymentState,
  DeploymentStateDetails,
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
import type { Logger } from "pino";
import { ChecksPermission } from "./checks-permission.js";
import { GitHubChecks } from "./github-checks.js";
import { GitHubDeployments } from "./github-deployments.js";
import { githubError, githubStatus } from "./github-error.js";
import { GitHubIssues } from "./github-issues.js";
import { GitHubReverts } from "./github-reverts.js";
/** GitHub's limit on a commit status description, in characters. */
const maxDescriptionLength = 140;

/** Ferry's status states in GitHub's words; GitHub has no "running", so it shows as pending. */
const githubStates = {
  pending: "pending",
  running: "pending",
  success: "success",
  failure: "failure",
} as const satisfies Record<StatusState, "pending" | "success" | "failure" | "error">;

/** Collaborator permissions and role names GitHub reports, on Ferry's scale. */
const accessLevels: Record<string, AccessLevel> = {
  admin: "admin",
  maintain: "admin",
  write: "write",
  push: "write",
  triage: "read",
  read: "read",
  pull: "read",
  none: "none",
};

const accessOrder: readonly AccessLevel[] = ["none", "read", "write", "admin"];

/** What a `GitHubForge` is built from. */
export interface GitHubForgeOptions {
  /** An Octokit authenticated as the app installation that can act on the repository (`probot.auth(id)`). */
  octokit: ProbotOctokit;
  /** The repository; `fullName` is `owner/name`. */
  repo: RepoRef;
  /** The app's bot login, e.g. `ferry[bot]`: `ensureComment` edits only comments it wrote. */
  botLogin: string;
  /** Installations known to refuse check runs, shared by the factory's forges (a new one when omitted). */
  checksPermission?: ChecksPermission;
  /** Where a refused check run is logged, once per installation and period. */
  log?: Logger;
}

/** Splits `owner/name`, throwing a permanent error for anything else. */
export function splitFullName(fullName: string): { owner: string; name: string } {
  const [owner, name, ...rest] = fullName.split("/");
  if (owner === undefined || name === undefined || owner === "" || name === "" || rest.length > 0) {
    throw permanent(`GitHub: repository name must be "owner/name", got "${fullName}"`);
  }
  return { owner, name };
}

/** The `Forge` for one GitHub repository, through the REST API as the app installation. */
export class GitHubForge implements Forge {
  /** The repository this forge acts on. */
  readonly repo: RepoRef;
  /** GitHub's limit on an issue comment body. */
  readonly maxCommentLength = 65536;
  /** GitHub's limit on an issue body, the same as a comment's (65,536 characters, answered with 422 past it). */
  readonly maxIssueBodyLength = 65536;

  private readonly octokit: ProbotOctokit;
  private readonly owner: string;
  private readonly name: string;
  private readonly botLogin: string;
  private readonly issues: GitHubIssues;
  private readonly deployments: GitHubDeployments;
  private readonly reverts: GitHubReverts;
  private readonly checks: GitHubChecks;
  /** Final statuses whose post failed in a way that may have come after GitHub stored them. */
  private readonly unsureFinals = new Set<string>();

  /** Binds the installation's Octokit to one repository. */
  constructor(options: GitHubForgeOptions) {
    const { owner, name } = splitFullName(options.repo.fullName);
    this.repo = options.repo;
    this.octokit = options.octokit;
    this.owner = owner;
    this.name = name;
    this.botLogin = options.botLogin;
    this.issues = new GitHubIssues({ octokit: options.octokit, owner, name, botLogin: options.botLogin });
    this.deployments = new GitHubDeployments({ octokit: options.octokit, owner, name, botLogin: options.botLogin });
    this.reverts = new GitHubReverts({ octokit: options.octokit, owner, name, botLogin: options.botLogin });
    this.checks = new GitHubChecks({
      octokit: options.octokit,
      owner,
      name,
      botLogin: options.botLogin,
      installationId: options.repo.installationId ?? 0,
      permission: options.checksPermission ?? new ChecksPermission(),
      log: options.log,
    });
  }

  /** The commit `branch` points at. */
  async branchHead(branch: string): Promise<string> {
    return this.call(`reading branch ${branch}`, async () => {
      const { data } = await this.octokit.rest.git.getRef({
        owner: this.owner,
        repo: this.name,
        ref: `heads/${branch}`,
      });
      return data.object.sha;
    });
  }

  /** The tarball of `sha`, streamed from GitHub (through its redirect to the download host), never buffered whole. */
  async downloadArchive(sha: string): Promise<Readable> {
    const doing = `downloading the archive of ${short(sha)}`;
    return this.call(doing, async () => {
      const { data } = await this.octokit.request("GET /repos/{owner}/{repo}/tarball/{ref}", {
        owner: this.owner,
        repo: this.name,
        ref: sha,
        request: { parseSuccessResponseBody: false },
      });
      const body: unknown = data;
      if (!(body instanceof ReadableStream)) throw permanent(`GitHub: ${doing}: the response had no body`);
      return Readable.fromWeb(body as ReadableStream<Uint8Array>);
    });
  }

  /** Posts the status; GitHub keeps every post and shows the latest per context, so repeating is safe. */
  async setStatus(sha: string, status: CommitStatus): Promise<void> {
    const description = trimDescription(status.description, maxDescriptionLength);
    const final = status.state === "success" || status.state === "failure";
    const key = `${sha} ${status.context} ${status.state} ${description}`;
    // GitHub keeps every status posted, and a 5xx may come after it stored one: a final status is
    // not retried blindly (by plugin-retry) but sent again only once the commit shows it did not land.
    if (final && this.unsureFinals.has(key)) {
      const now = await this.statusOf(sha, status.context).catch(() => undefined);
      if (now?.state === status.state && now.description === description) return void this.unsureFinals.delete(key);
    }
    try {
      await this.call(`setting status ${status.context} on ${short(sha)}`, () =>
        this.octokit.rest.repos.createCommitStatus({
          owner: this.owner,
          repo: this.name,
          sha,
          context: status.context,
          state: githubStates[status.state],
          description,
          ...(status.targetUrl === undefined ? {} : { target_url: status.targetUrl }),
          ...(final ? { request: { retries: 0 } } : {}),
        }),
      );
      this.unsureFinals.delete(key);
    } catch (error) {
      if (final && !isPermanent(error)) this.unsureFinals.add(key);
      throw error;
    }
  }

  /** Creates or updates the app's check run (see `Forge.ensureCheckRun`); false without `checks: write`. */
  async ensureCheckRun(sha: string, run: CheckRunReport): Promise<boolean> {
    return this.checks.ensure(sha, run);
  }

  /** The latest status of `context` on `sha`, from the combined status (GitHub's `error` reads as failure). */
  async statusOf(sha: string, context: string): Promise<CommitStatus | undefined> {
    return this.call(`reading status ${context} of ${short(sha)}`, async () => {
      const { data } = await this.octokit.rest.repos.getCombinedStatusForRef({
        owner: this.owner,
        repo: this.name,
        ref: sha,
        per_page: 100,
      });
      const found = data.statuses.find((s) => s.context === context);
      if (found === undefined) return undefined;
      const state: StatusState =
        found.state === "success"
          ? "success"
          : found.state === "failure" || found.state === "error"
            ? "failure"
            : "pending";
      return {
        context,
        state,
        description: found.description ?? "",
        ...(found.target_url ? { targetUrl: found.target_url } : {}),
      };
    });
  }

  /** Pull requests merged with `sha` as their merge commit, newest first. */
  async changesMergedAs(sha: string): Promise<number[]> {
    return this.call(`finding the pull requests merged as ${short(sha)}`, async () => {
      const pulls = await this.octokit.paginate(this.octokit.rest.repos.listPullRequestsAssociatedWithCommit, {
        owner: this.owner,
        repo: this.name,
        commit_sha: sha,
        per_page: 100,
      });
      return pulls
        .filter((pr) => pr.merged_at !== null && pr.merge_commit_sha === sha)
        .sort((a, b) => (b.merged_at ?? "").localeCompare(a.merged_at ?? "") || b.number - a.number)
        .map((pr) => pr.number);
    });
  }

  /**
   * Edits the first comment holding `marker` that the app's bot wrote, or creates one; the body
   * always holds the marker (prepended when missing), and an unchanged body is not re-sent; with
   * `keep`, an existing one is left as it is.
   */
  async ensureComment(change: number, marker: string, body: string, options: EnsureCommentOptions = {}): Promise<void> {
    const content = withMarker(body, marker);
    const existing = await this.call(`reading the comments of #${change}`, () => this.findOwnComment(change, marker));
    if (existing === undefined) {
      await this.createComment(change, content);
    } else if (existing.body !== content && options.keep !== true) {
      await this.call(`editing comment ${existing.id} on #${change}`, () =>
        this.octokit.rest.issues.updateComment({
          owner: this.owner,
          repo: this.name,
          comment_id: existing.id,
          body: content,
        }),
      );
    }
  }

  /**
   * Adds a comment to pull request `change`. A 5xx is not retried here: GitHub may have created the
   * comment before failing, and sending it again would post it twice; the job's retry goes through
   * `ensureComment`, which finds it by its marker. (Rate-limit answers, which create nothing, still are.)
   */
  async createComment(change: number, body: string): Promise<void> {
    await this.call(`commenting on #${change}`, () =>
      this.octokit.rest.issues.createComment({
        owner: this.owner,
        repo: this.name,
        issue_number: change,
        body,
        request: { retries: 0 },
      }),
    );
  }

  /** `user`'s access, from the permission and role GitHub reports; an unknown user has none. */
  async accessLevel(user: string): Promise<AccessLevel> {
    try {
      const { data } = await this.octokit.rest.repos.getCollaboratorPermissionLevel({
        owner: this.owner,
        repo: this.name,
        username: user,
      });
      return higher(accessLevels[data.permission] ?? "none", accessLevels[data.role_name] ?? "none");
    } catch (error) {
      if (githubStatus(error) === 404) return "none";
      throw githubError(error, `reading the permission of ${user}`);
    }
  }

  /** The pull request's head and base; merged pull requests are closed, and a deleted fork counts as a fork. */
  async openChanges(baseBranch: string): Promise<OpenChange[]> {
    return this.call(`listing the open pull requests into ${baseBranch}`, async () => {
      const pulls = await this.octokit.paginate(this.octokit.rest.pulls.list, {
        owner: this.owner,
        repo: this.name,
        state: "open",
        base: baseBranch,
        per_page: 100,
      });
      const own = `${this.owner}/${this.name}`.toLowerCase();
      return pulls.map((pr) => ({
        number: pr.number,
        headSha: pr.head.sha,
        fromFork: pr.head.repo?.full_name?.toLowerCase() !== own,
        author: pr.user?.login ?? "",
      }));
    });
  }

  async changeHead(change: number): Promise<ChangeHead> {
    return this.call(`reading pull request #${change}`, async () => {
      const { data } = await this.octokit.rest.pulls.get({ owner: this.owner, repo: this.name, pull_number: change });
      const headRepo = data.head.repo?.full_name;
      return {
        sha: data.head.sha,
        baseBranch: data.base.ref,
        open: data.state === "open",
        fromFork: headRepo === undefined || headRepo.toLowerCase() !== `${this.owner}/${this.name}`.toLowerCase(),
      };
    });
  }

  /** Reacts to an issue comment (GitHub addresses it without the pull request); GitHub answers a repeated reaction with the existing one. */
  async react(_change: number, commentId: number, reaction: Reaction): Promise<void> {
    await this.call(`reacting ${reaction} to comment ${commentId}`, () =>
      this.octokit.rest.reactions.createForIssueComment({
        owner: this.owner,
        repo: this.name,
        comment_id: commentId,
        content: reaction,
      }),
    );
  }

  /** The pull request when merged, with its merge commit. */
  async mergedChange(change: number): Promise<MergedChange | undefined> {
    return this.reverts.mergedChange(change);
  }

  /** Opens (or finds open) the revert of a merged pull request, through GitHub's `revertPullRequest` mutation. */
  async revertChange(change: MergedChange, request: RevertRequest): Promise<RevertChange | ForgeRefusal> {
    return this.reverts.revertChange(change, request);
  }

  /** Merges a pull request at `headSha` through the REST merge endpoint; GitHub's refusals are returned in its words. */
  async mergeChange(change: number, headSha: string): Promise<MergeResult> {
    return this.reverts.mergeChange(change, headSha);
  }

  /** Keeps one open issue holding `marker`, opened by the app's bot and labelled `ferry-drift` (see `Forge.ensureIssue`). */
  async ensureIssue(marker: string, title: string, body: string): Promise<EnsuredIssue> {
    return ensureMarkedIssue(this.issues, marker, title, body);
  }

  /** Comments on and closes the bot's open issue holding `marker` (see `Forge.closeIssue`). */
  async closeIssue(marker: string, comment: string): Promise<boolean> {
    return closeMarkedIssue(this.issues, marker, comment);
  }

  /** The bot's deployment of the environment at the sha, found or created (see `Forge.ensureDeployment`). */
  async ensureDeployment(target: DeploymentTarget): Promise<number> {
    return this.deployments.ensure(target);
  }

  /** Adds a deployment status; GitHub keeps every one and shows the latest, so repeating is safe. */
  async setDeploymentState(id: number, state: DeploymentState, details: DeploymentStateDetails): Promise<void> {
    await this.deployments.setState(id, state, details);
  }

  /** The first comment on `change` with `marker` that the bot wrote, reading page by page. */
  private async findOwnComment(change: number, marker: string): Promise<{ id: number; body: string } | undefined> {
    const pages = this.octokit.paginate.iterator(this.octokit.rest.issues.listComments, {
      owner: this.owner,
      repo: this.name,
      issue_number: change,
      per_page: 100,
    });
    const bot = this.botLogin.toLowerCase();
    for await (const { data } of pages) {
      const found = data.find((c) => c.body?.includes(marker) === true && c.user?.login.toLowerCase() === bot);
      if (found !== undefined) return { id: found.id, body: found.body ?? "" };
    }
    return undefined;
  }

  /** Runs one GitHub call, turning its failure into a FerryError that says what was being done. */
  private call<T>(doing: string, run: () => Promise<T>): Promise<T> {
    return forgeCall(doing, run, githubError);
  }
}

function higher(a: AccessLevel, b: AccessLevel): AccessLevel {
  return accessOrder.indexOf(a) >= accessOrder.indexOf(b) ? a : b;
}

function short(sha: string): string {
  return sha.slice(0, 7);
}
