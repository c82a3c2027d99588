import type { Gitlab } from "@gitbeaker/rest";
import { forgeCall } from "../forge-call.js";
import type { IssueOps, OpenIssue } from "../marked-issue.js";
import { ferryIssueLabel } from "../types.js";
import { gitlabError } from "./gitlab-error.js";

/** What `GitLabIssues` is built from. */
export interface GitLabIssuesOptions {
  /** A gitbeaker client authenticated with Ferry's token. */
  api: Gitlab;
  /** The project's id, or its path with namespace. */
  project: number | string;
  /** The token's username (lower-cased): only issues and notes it wrote count as Ferry's. */
  botUsername: string;
}

/**
 * A project's issues through GitLab's REST issues API (docs.gitlab.com/api/issues), as `IssueOps`;
 * the token needs the `api` scope, as for Ferry's other writes.
 */
export class GitLabIssues implements IssueOps {
  private readonly api: Gitlab;
  private readonly project: number | string;
  private readonly bot: string;

  /** Binds the client to one project. */
  constructor(options: GitLabIssuesOptions) {
    this.api = options.api;
    this.project = options.project;
    this.bot = options.botUsername.toLowerCase();
  }

  /**
   * `GET /projects/:id/issues?state=opened&labels=ferry-drift&author_username=<token's user>`,
   * oldest first, every page; the author is checked again here, as for notes.
   */
  async ownOpenIssues(): Promise<OpenIssue[]> {
    return this.call(`reading the open issues labelled ${ferryIssueLabel}`, async () => {
      const issues = await this.api.Issues.all({
        projectId: this.project,
        state: "opened",
        labels: ferryIssueLabel,
        authorUsername: this.bot,
        orderBy: "created_at",
        sort: "asc",
        perPage: 100,
      });
      return issues
        .filter((issue) => issue.author.username.toLowerCase() === this.bot)
        .map((issue) => ({ number: issue.iid, title: issue.title, body: issue.description ?? "", url: issue.web_url }));
    });
  }

  /**
   * `POST /projects/:id/issues` with the label, which GitLab creates in the project when it is
   * missing. A 5xx is not retried in place (see gitlabRequester); the job's retry finds the issue
   * GitLab may have opened anyway by its marker.
   */
  async create(title: string, body: string): Promise<{ number: number; url: string }> {
    return this.call(`opening issue "${title}"`, async () => {
      const issue = await this.api.Issues.create(this.project, title, { description: body, labels: ferryIssueLabel });
      return { number: issue.iid, url: issue.web_url };
    });
  }

  /** `PUT /projects/:id/issues/:issue_iid` with the new title and description. */
  async edit(number: number, title: string, body: string): Promise<void> {
    await this.call(`editing issue #${number}`, () =>
      this.api.Issues.edit(this.project, number, { title, description: body }),
    );
  }

  /** Whether the token's user already left `body` as a note on the issue, oldest first, every page. */
  async hasOwnComment(number: number, body: string): Promise<boolean> {
    return this.call(`reading the notes of issue #${number}`, async () => {
      const notes = await this.api.IssueNotes.all(this.project, number, {
        sort: "asc",
        orderBy: "created_at",
        perPage: 100,
      });
      return notes.some((n) => !n.system && n.body === body && n.author.username.toLowerCase() === this.bot);
    });
  }

  /** `POST /projects/:id/issues/:issue_iid/notes`. */
  async comment(number: number, body: string): Promise<void> {
    await this.call(`commenting on issue #${number}`, () => this.api.IssueNotes.create(this.project, number, body));
  }

  /** `PUT /projects/:id/issues/:issue_iid` with `state_event=close`; GitLab answers 200 for an issue already closed. */
  async close(number: number): Promise<void> {
    await this.call(`closing issue #${number}`, () =>
      this.api.Issues.edit(this.project, number, { stateEvent: "close" }),
    );
  }

  private call<T>(doing: string, run: () => Promise<T>): Promise<T> {
    return forgeCall(doing, run, gitlabError);
  }
}
