import { randomUUID } from "node:crypto";
import { STATUS_CODES, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type ErrorRequestHandler, type Express } from "express";
import type { GitRepo } from "./git-repo.js";
import { closeServer, listenOnLoopback } from "./loopback-server.js";
import { AppAuth } from "./github-simulator/app-auth.js";
import { appRoutes } from "./github-simulator/app-routes.js";
import { checkRoutes } from "./github-simulator/check-routes.js";
import { sendError, type SimulatorContext } from "./github-simulator/context.js";
import { deploymentRoutes } from "./github-simulator/deployment-routes.js";
import { feedbackRoutes } from "./github-simulator/feedback-routes.js";
import { graphqlRoutes } from "./github-simulator/graphql-routes.js";
import { ensureLabels, issueRoutes, nextIssueNumber } from "./github-simulator/issue-routes.js";
import { errorJson, timestamp, type Urls } from "./github-simulator/json.js";
import {
  defaultInstallationPermissions,
  repoKey,
  type CheckRunRecord,
  type CommentRecord,
  type DeploymentRecord,
  type FaultMatcher,
  type FaultResponse,
  type InstallationPermissions,
  type IssueRecord,
  type Permission,
  type PullRequestInput,
  type PullRequestPatch,
  type RequestRecord,
  type SimRepo,
  type StatusRecord,
  type UserComment,
  type UserIssue,
} from "./github-simulator/model.js";
import { mergeRoutes } from "./github-simulator/merge-routes.js";
import { githubOAuthRoutes } from "./github-simulator/oauth-routes.js";
import { OAuthServer } from "./oauth-server.js";
import { codeloadRoutes, repoRoutes } from "./github-simulator/repo-routes.js";
import { FaultPlan } from "./simulator-faults.js";

export { defaultInstallationPermissions } from "./github-simulator/model.js";
export type {
  CheckAnnotationRecord,
  CheckRunRecord,
  CheckRunState,
  CommentRecord,
  DeploymentRecord,
  DeploymentStatusRecord,
  FaultMatcher,
  FaultResponse,
  InstallationPermissions,
  IssueRecord,
  Permission,
  PullRequestInput,
  PullRequestPatch,
  RequestRecord,
  StatusRecord,
  UserComment,
  UserIssue,
} from "./github-simulator/model.js";

/** Installation id repositories get when `addRepo` is not told otherwise (the webhook examples use 1 too). */
export const defaultInstallationId = 1;

/** Prefix under which GitHub Enterprise Server serves its REST API. */
const apiPrefix = "/api/v3";

/** Options for `GitHubSimulator.start`. */
export interface GitHubSimulatorOptions {
  /** The app's id (default 1001). */
  appId?: number;
  /** The app's slug; comments and statuses are authored by `<slug>[bot]` (default "ferry"). */
  appSlug?: string;
}

/**
 * A local stand-in for GitHub Enterprise Server's REST API over real HTTP: it authenticates the
 * app's JWT and installation tokens, refuses what an installation's permissions do not cover,
 * serves archives of real git repositories, reverts (the GraphQL `revertPullRequest` mutation) and
 * merges pull requests in them with real git, and records the statuses, comments, issues and
 * requests it receives.
 */
export class GitHubSimulator {
  /** Server root, e.g. `http://127.0.0.1:PORT`; Probot's base URL is `${url}/api/v3`. */
  readonly url: string;
  /** `host:port`, the value for GHE_HOST. */
  readonly host: string;
  /** Requests no route handled (answered 404); tests assert it stays empty. */
  readonly unhandled: Array<{ method: string; path: string }> = [];

  /** The app's user authorization (OAuth): register its client with `oauth.register`. */
  readonly oauth = new OAuthServer("ghu_");

  private readonly server: Server;
  private readonly auth: AppAuth;
  private readonly ctx: SimulatorContext;
  private readonly faults = new FaultPlan(apiPrefix, (status) => errorJson(status, STATUS_CODES[status] ?? "Error"));

  private constructor(server: Server, options: GitHubSimulatorOptions) {
    const { port } = server.address() as AddressInfo;
    this.server = server;
    this.host = `127.0.0.1:${port}`;
    this.url = `http://${this.host}`;
    this.auth = new AppAuth(options.appId ?? 1001);
    const urls: Urls = { web: this.url, api: `${this.url}${apiPrefix}` };
    let lastId = 1000;
    this.ctx = {
      auth: this.auth,
      urls,
      appSlug: options.appSlug ?? "ferry",
      repos: new Map(),
      installationPermissions: new Map(),
      archiveTokens: new Map(),
      nextId: () => ++lastId,
    };
    server.on("request", this.buildApp());
  }

  /** Starts a simulator on 127.0.0.1 on a free port. */
  static async start(options: GitHubSimulatorOptions = {}): Promise<GitHubSimulator> {
    return new GitHubSimulator(await listenOnLoopback(), options);
  }

  /** REST API base URL (`${url}/api/v3`), what Probot derives from GHE_HOST and GHE_PROTOCOL=http. */
  get apiUrl(): string {
    return this.ctx.urls.api;
  }

  /** The app's id. */
  get appId(): number {
    return this.auth.appId;
  }

  /** The app's private key (PKCS#1 PEM). */
  get privateKeyPem(): string {
    return this.auth.privateKeyPem;
  }

  /** The app's slug. */
  get appSlug(): string {
    return this.ctx.appSlug;
  }

  /** Login of the app's bot user, the author of its comments and statuses. */
  get botLogin(): string {
    return `${this.ctx.appSlug}[bot]`;
  }

  /** Serves `repo` as `fullName` ("owner/name"), accessible to the given installation. */
  addRepo(fullName: string, repo: GitRepo, opts: { installationId?: number } = {}): void {
    const [owner, name, ...rest] = fullName.split("/");
    if (owner === undefined || name === undefined || owner === "" || name === "" || rest.length > 0) {
      throw new Error(`repository name must be "owner/name", got ${fullName}`);
    }
    this.ctx.repos.set(repoKey(fullName), {
      id: 100_000 + this.ctx.repos.size + 1,
      owner,
      name,
      fullName,
      git: repo,
      installationId: opts.installationId ?? defaultInstallationId,
      permissions: new Map(),
      pulls: new Map(),
      comments: [],
      issues: new Map(),
      labels: new Map(),
      issuesEnabled: true,
      statuses: [],
      deployments: [],
      checkRuns: [],
      checkSuites: new Map(),
      archives: new Map(),
      protectedBranches: new Map(),
    });
  }

  /**
   * Makes `branch`'s rules refuse the app's merges into it with `message` (405, as GitHub answers a
   * merge its branch protection blocks), e.g. "At least 1 approving review is required by reviewers with write access."
   */
  protectBranch(fullName: string, branch: string, message: string): void {
    this.repo(fullName).protectedBranches.set(branch, message);
  }

  /** A pull request as it stands now (including those the app opened), or undefined. */
  pullRequest(fullName: string, number: number): PullRequestInput | undefined {
    const pr = this.repo(fullName).pulls.get(number);
    return pr === undefined ? undefined : { ...pr };
  }

  /**
   * Sets what an installation is granted (replacing the default, which is what `app.yml` asks
   * for); endpoints needing a permission it lacks answer 403 "Resource not accessible by integration".
   */
  setInstallationPermissions(installationId: number, permissions: InstallationPermissions): void {
    this.ctx.installationPermissions.set(installationId, { ...permissions });
  }

  /** The permissions an installation is granted now. */
  installationPermissions(installationId: number): InstallationPermissions {
    return { ...(this.ctx.installationPermissions.get(installationId) ?? defaultInstallationPermissions) };
  }

  /** Turns the repository's Issues on or off (off: creating an issue answers 410, as GitHub does). */
  setIssuesEnabled(fullName: string, enabled: boolean): void {
    this.repo(fullName).issuesEnabled = enabled;
  }

  /** Serves `bytes` as the tarball of `sha` instead of `git archive` of it (for hostile-archive tests). */
  serveArchive(fullName: string, sha: string, bytes: Buffer): void {
    this.repo(fullName).archives.set(sha, bytes);
  }

  /** Sets `login`'s permission on the repository. Unknown users have "none". */
  setPermission(fullName: string, login: string, permission: Permission): void {
    this.repo(fullName).permissions.set(login.toLowerCase(), permission);
  }

  /** Registers (or replaces) a pull request; its number also accepts issue comments. */
  addPullRequest(fullName: string, pr: PullRequestInput): void {
    const repo = this.repo(fullName);
    if (repo.issues.has(pr.number))
      throw new Error(`${fullName}#${pr.number} is an issue; pull requests and issues share numbers`);
    repo.pulls.set(pr.number, {
      ...pr,
      ...(pr.labels === undefined ? {} : { labels: ensureLabels(this.ctx, repo, pr.labels) }),
    });
  }

  /** Opens an issue by `issue.user` (a person or another app, unlike the issues Ferry opens); returns its number. */
  addIssue(fullName: string, issue: UserIssue): number {
    const repo = this.repo(fullName);
    const now = timestamp();
    const state = issue.state ?? "open";
    const number = nextIssueNumber(repo);
    repo.issues.set(number, {
      number,
      title: issue.title,
      body: issue.body ?? null,
      user: issue.user,
      state,
      stateReason: state === "closed" ? "completed" : null,
      labels: ensureLabels(this.ctx, repo, issue.labels ?? []),
      edits: 0,
      created_at: now,
      updated_at: now,
      closed_at: state === "closed" ? now : null,
    });
    return number;
  }

  /** The repository's issues (not pull requests), in number order, as they stand now. */
  issues(fullName: string): IssueRecord[] {
    return [...this.repo(fullName).issues.values()]
      .sort((a, b) => a.number - b.number)
      .map((i) => ({ ...i, labels: [...i.labels] }));
  }

  /** Names of the repository's labels, in the order they were created. */
  labels(fullName: string): string[] {
    return [...this.repo(fullName).labels.values()].map((l) => l.name);
  }

  /** Changes a registered pull request, e.g. its head sha after a push, or its state once closed. */
  updatePullRequest(fullName: string, number: number, patch: PullRequestPatch): void {
    const pr = this.repo(fullName).pulls.get(number);
    if (pr === undefined) throw new Error(`pull request ${fullName}#${number} is not registered with the simulator`);
    Object.assign(pr, patch);
  }

  /** Adds a comment by `comment.user` (a person, unlike the app's comments) to a registered pull request or issue; returns its id. */
  addComment(fullName: string, number: number, comment: UserComment): number {
    const repo = this.repo(fullName);
    if (!repo.pulls.has(number) && !repo.issues.has(number))
      throw new Error(`pull request or issue ${fullName}#${number} is not registered with the simulator`);
    const now = timestamp();
    const id = this.ctx.nextId();
    repo.comments.push({
      id,
      issueNumber: number,
      body: comment.body,
      user: comment.user,
      edits: 0,
      reactions: [],
      created_at: now,
      updated_at: now,
    });
    return id;
  }

  /** Commit statuses received for the repository (optionally one sha), in the order received. */
  statuses(fullName: string, sha?: string): StatusRecord[] {
    return this.repo(fullName)
      .statuses.filter((s) => sha === undefined || s.sha === sha)
      .map((s) => ({ ...s }));
  }

  /** Deployments of the repository (optionally of one environment), in creation order, each with its statuses. */
  deployments(fullName: string, environment?: string): DeploymentRecord[] {
    return this.repo(fullName)
      .deployments.filter((d) => environment === undefined || d.environment === environment)
      .map((d) => ({ ...d, statuses: d.statuses.map((s) => ({ ...s })) }));
  }

  /** Check runs of the repository (optionally on one sha), in creation order, each with its annotations and history. */
  checkRuns(fullName: string, sha?: string): CheckRunRecord[] {
    return this.repo(fullName)
      .checkRuns.filter((r) => sha === undefined || r.head_sha === sha)
      .map((r) => ({
        ...r,
        output: { ...r.output },
        annotations: r.annotations.map((a) => ({ ...a })),
        history: r.history.map((h) => ({ ...h })),
      }));
  }

  /** The repository's id. */
  repoId(fullName: string): number {
    return this.repo(fullName).id;
  }

  /**
   * The open pull requests whose head is `sha` in the repository itself, as the Checks API lists
   * them on a run or suite (a fork's head is never listed).
   */
  checkPullRequests(fullName: string, sha: string): Array<{ number: number; headRef: string; baseRef: string }> {
    const repo = this.repo(fullName);
    return [...repo.pulls.values()]
      .filter((pr) => pr.headSha === sha && pr.state !== "closed" && pr.merged !== true)
      .filter((pr) => pr.headRepo === undefined || (pr.headRepo !== null && repoKey(pr.headRepo) === repoKey(fullName)))
      .map((pr) => ({ number: pr.number, headRef: pr.headRef, baseRef: pr.baseRef }));
  }

  /** Current comments on an issue or pull request, in creation order. */
  comments(fullName: string, number: number): CommentRecord[] {
    return this.repo(fullName)
      .comments.filter((c) => c.issueNumber === number)
      .map((c) => ({ ...c, reactions: [...c.reactions] }));
  }

  /**
   * Answers the next requests matching `matcher` with `responses`, one each, in order, before any
   * authentication or routing (for 5xx, 429 and Retry-After tests).
   */
  failNext(matcher: FaultMatcher, responses: FaultResponse[]): void {
    this.faults.add(matcher, responses);
  }

  /** Holds the next request matching `matcher` until `action` is done, then answers it as usual. */
  holdNext(matcher: FaultMatcher, action: () => Promise<void>): void {
    this.faults.holdNext(matcher, action);
  }

  /** Every request answered, in order. */
  get requests(): readonly RequestRecord[] {
    return this.faults.requests;
  }

  /** Makes every issued installation token expire, as if an hour had passed. */
  expireInstallationTokens(): void {
    this.auth.expireTokens();
  }

  /** Stops the server, dropping open keep-alive connections. */
  async close(): Promise<void> {
    await closeServer(this.server);
  }

  private repo(fullName: string): SimRepo {
    const repo = this.ctx.repos.get(repoKey(fullName));
    if (repo === undefined) throw new Error(`repository ${fullName} is not registered with the simulator`);
    return repo;
  }

  private buildApp(): Express {
    const app = express();
    app.disable("x-powered-by");
    app.disable("etag");
    app.use(this.faults.middleware());
    app.use((_req, res, next) => {
      res.set("x-github-request-id", randomUUID().toUpperCase());
      res.set("x-github-media-type", "github.v3; format=json");
      next();
    });
    app.use(express.json({ limit: "25mb" }));
    app.use(codeloadRoutes(this.ctx), graphqlRoutes(this.ctx), githubOAuthRoutes(this.ctx, this.oauth, apiPrefix));
    app.use(
      apiPrefix,
      appRoutes(this.ctx),
      repoRoutes(this.ctx),
      mergeRoutes(this.ctx),
      issueRoutes(this.ctx),
      feedbackRoutes(this.ctx),
      deploymentRoutes(this.ctx),
      checkRoutes(this.ctx),
    );
    app.use((req, res) => {
      this.unhandled.push({ method: req.method, path: req.path });
      sendError(res, 404, "Not Found");
    });
    const onError: ErrorRequestHandler = (error: unknown, _req, res, _next) => {
      const parseFailure =
        typeof error === "object" && error !== null && "type" in error && error.type === "entity.parse.failed";
      if (parseFailure) {
        sendError(res, 400, "Problems parsing JSON");
      } else {
        sendError(res, 500, `simulator error: ${error instanceof Error ? error.message : String(error)}`);
      }
    };
    app.use(onError);
    return app;
  }
}
