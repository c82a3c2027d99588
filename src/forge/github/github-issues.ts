import type { ProbotOctokit } from "probot";
import { FerryError, permanent } from "../../errors.js";
import { forgeCall } from "../forge-call.js";
import type { IssueOps, OpenIssue } from "../marked-issue.js";
import { ferryIssueLabel } from "../types.js";
import { githubError, githubStatus } from "./github-error.js";

/** What `GitHubIssues` is built from. */
export interface GitHubIssuesOptions {
  /** An Octokit authenticated as the app installation. */
  octokit: ProbotOctokit;
  /** Repository owner. */
  owner: string;
  /** Repository name. */
  name: string;
  /** The app's bot login, e.g. `ferry[bot]`: only issues and comments it wrote count as Ferry's. */
  botLogin: string;
}

/**
 * A repository's issues through GitHub's REST issues API, as `IssueOps`; the app needs the
 * `issues: write` permission (docs.github.com/rest/issues/issues: the fine-grained permission of
 * "Create an issue" and "Update an issue" is "Issues" repository permissions (write)).
 */
export class GitHubIssues implements IssueOps {
  private readonly octokit: ProbotOctokit;
  private readonly owner: string;
  private readonly name: string;
  private readonly bot: string;

  /** Binds the installation's Octokit to one repository. */
  constructor(options: GitHubIssuesOptions) {
    this.octokit = options.octokit;
    this.owner = options.owner;
    this.name = options.name;
    this.bot = options.botLogin.toLowerCase();
  }

  /**
   * `GET /repos/{owner}/{repo}/issues?state=open&labels=ferry-drift`, oldest first, keeping what the
   * bot opened. GitHub lists pull requests there too (they carry a `pull_request` key), so those
   * are dropped. The author is checked here rather than with `creator=<slug>[bot]`: GitHub documents
   * `creator` as a user name and says nothing of app bots, and the label already keeps the list short.
   */
  async ownOpenIssues(): Promise<OpenIssue[]> {
    return this.call(`reading the open issues labelled ${ferryIssueLabel}`, async () => {
      const issues = await this.octokit.paginate(this.octokit.rest.issues.listForRepo, {
        owner: this.owner,
        repo: this.name,
        state: "open",
        labels: ferryIssueLabel,
        sort: "created",
        direction: "asc",
        per_page: 100,
      });
      return issues
        .filter((issue) => issue.pull_request === undefined && issue.user?.login.toLowerCase() === this.bot)
        .map((issue) => ({ number: issue.number, title: issue.title, body: issue.body ?? "", url: issue.html_url }));
    });
  }

  /**
   * `POST /repos/{owner}/{repo}/issues` with the label, which GitHub creates in the repository when
   * it is missing. A 5xx is not retried in place: GitHub may have opened the issue before failing,
   * and the job's retry finds it by its marker (rate-limit answers, which open nothing, still are).
   */
  async create(title: string, body: string): Promise<{ number: number; url: string }> {
    return this.call(`opening issue "${title}"`, async () => {
      const { data } = await this.octokit.rest.issues.create({
        owner: this.owner,
        repo: this.name,
        title,
        body,
        labels: [ferryIssueLabel],
        request: { retries: 0 },
      });
      return { number: data.number, url: data.html_url };
    });
  }

  /** `PATCH /repos/{owner}/{repo}/issues/{number}` with the new title and body. */
  async edit(number: number, title: string, body: string): Promise<void> {
    await this.call(`editing issue #${number}`, () =>
      this.octokit.rest.issues.update({ owner: this.owner, repo: this.name, issue_number: number, title, body }),
    );
  }

  /** Whether the bot already left `body` on the issue, reading its comments page by page. */
  async hasOwnComment(number: number, body: string): Promise<boolean> {
    return this.call(`reading the comments of issue #${number}`, async () => {
      const pages = this.octokit.paginate.iterator(this.octokit.rest.issues.listComments, {
        owner: this.owner,
        repo: this.name,
        issue_number: number,
        per_page: 100,
      });
      for await (const { data } of pages) {
        if (data.some((c) => c.body === body && c.user?.login.toLowerCase() === this.bot)) return true;
      }
      return false;
    });
  }

  /** `POST /repos/{owner}/{repo}/issues/{number}/comments`, not retried on 5xx (see `create`). */
  async comment(number: number, body: string): Promise<void> {
    await this.call(`commenting on issue #${number}`, () =>
      this.octokit.rest.issues.createComment({
        owner: this.owner,
        repo: this.name,
        issue_number: number,
        body,
        request: { retries: 0 },
      }),
    );
  }

  /** `PATCH` with `state: closed` and `state_reason: completed` (the reason GitHub shows as "closed as completed"). */
  async close(number: number): Promise<void> {
    await this.call(`closing issue #${number}`, () =>
      this.octokit.rest.issues.update({
        owner: this.owner,
        repo: this.name,
        issue_number: number,
        state: "closed",
        state_reason: "completed",
      }),
    );
  }

  private call<T>(doing: string, run: () => Promise<T>): Promise<T> {
    return forgeCall(doing, run, githubIssueError);
  }
}

/**
 * `githubError`, with what to do about the two refusals an app meets on issues: a 403 "Resource not
 * accessible by integration" (the installation lacks `issues: write`) and a 410 (issues are turned
 * off in the repository: docs.github.com, "Create an issue": "If issues are disabled in the
 * repository, the API returns a 410 Gone status").
 */
function githubIssueError(error: unknown, doing: string): FerryError {
  const failure = githubError(error, doing);
  if (failure.kind !== "permanent") return failure;
  const status = githubStatus(error);
  if (status === 403 && /resource not accessible by integration/i.test(failure.message)) {
    return permanent(
      `${failure.message} (the GitHub App needs the "issues: write" permission: add it in the app's settings, then accept it on the installation)`,
      { cause: error },
    );
  }
  if (status === 410)
    return permanent(`${failure.message} (turn Issues on in the repository's settings)`, { cause: error });
  return failure;
}
