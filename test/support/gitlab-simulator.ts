import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gitlabOAuthRoutes } from "./gitlab-simulator/oauth-routes.js";
import { OAuthServer } from "./oauth-server.js";
import express, { type ErrorRequestHandler, type Express } from "express";
import type { GitRepo } from "./git-repo.js";
import { closeServer, listenOnLoopback } from "./loopback-server.js";
import {
  defaultErrorBody,
  ensureUser,
  sendMessage,
  timestamp,
  type GitLabSimContext,
} from "./gitlab-simulator/context.js";
import type {
  DeploymentRecord,
  DeploymentTransitionError,
  EnvironmentRecord,
} from "./gitlab-simulator/deployment-model.js";
import { deploymentRoutes } from "./gitlab-simulator/deployment-routes.js";
import { ensureLabels, issueRoutes } from "./gitlab-simulator/issue-routes.js";
import { mergeRequestRoutes } from "./gitlab-simulator/merge-request-routes.js";
import {
  accessLevels,
  type GitLabAccessLevel,
  type GitLabProjectRef,
  type IssueRecord,
  type MergeRequestInput,
  type MergeRequestPatch,
  type NoteRecord,
  type SimProject,
  type StateMachineError,
  type StatusRecord,
  type UserIssue,
  type UserNote,
} from "./gitlab-simulator/model.js";
import { repositoryRoutes } from "./gitlab-simulator/repository-routes.js";
import { revertRoutes } from "./gitlab-simulator/revert-routes.js";
import { statusRoutes } from "./gitlab-simulator/status-routes.js";
import { userRoutes } from "./gitlab-simulator/user-routes.js";
import { FaultPlan, type FaultMatcher, type FaultResponse, type RequestRecord } from "./simulator-faults.js";

export { accessLevels, gitlabUserId } from "./gitlab-simulator/model.js";
export type {
  DeploymentRecord,
  DeploymentTransitionError,
  EnvironmentRecord,
} from "./gitlab-simulator/deployment-model.js";
export type {
  AwardRecord,
  CommitStatusState,
  FaultMatcher,
  FaultResponse,
  GitLabAccessLevel,
  GitLabProjectRef,
  IssueRecord,
  IssueState,
  MergeRequestInput,
  MergeRequestPatch,
  MergeRequestState,
  NoteRecord,
  RequestRecord,
  StateMachineError,
  StatusRecord,
  UserIssue,
  UserNote,
} from "./gitlab-simulator/model.js";

/** Prefix under which GitLab serves its REST API. */
const apiPrefix = "/api/v4";

/** Options for `GitLabSimulator.start`. */
export interface GitLabSimulatorOptions {
  /** Username of the user Ferry's token acts as (default "ferry-bot", a bot user as project access tokens have). */
  botUsername?: string;
}

/**
 * A local stand-in for GitLab's REST API v4 over real HTTP: it authenticates access tokens
 * (`PRIVATE-TOKEN` or `Authorization: Bearer`), serves archives of real git repositories (and creates
 * branches, reverts commits, opens and merges merge requests in them with real git), enforces
 * the commit status state machine as GitLab does, and records statuses, notes, award emoji, issues
 * and requests for assertions.
 */
export class GitLabSimulator {
  /** Server root, e.g. `http://127.0.0.1:PORT`: the GitLab URL Ferry is configured with. */
  readonly url: string;
  /** The token Ferry uses; it acts as `botUsername`. */
  readonly token: string;
  /** Username of the token's (bot) user, the author of Ferry's notes and statuses. */
  readonly botUsername: string;
  /** Requests no route handled (answered 404); tests assert it stays empty. */
  readonly unhandled: Array<{ method: string; path: string }> = [];

  private readonly server: Server;
  /** OAuth applications (sign-in with GitLab): register one with `oauth.register`. */
  readonly oauth = new OAuthServer("");

  private readonly ctx: GitLabSimContext;
  private readonly faults = new FaultPlan(apiPrefix, defaultErrorBody);

  private constructor(server: Server, options: GitLabSimulatorOptions) {
    const { port } = server.address() as AddressInfo;
    this.server = server;
    this.url = `http://127.0.0.1:${port}`;
    this.botUsername = options.botUsername ?? "ferry-bot";
    this.token = `glpat-${randomBytes(10).toString("hex")}`;
    let lastId = 1000;
    this.ctx = {
      web: this.url,
      api: `${this.url}${apiPrefix}`,
      projects: new Map(),
      users: new Map(),
      tokens: new Map([[this.token, this.botUsername]]),
      stateMachineErrors: [],
      deploymentTransitionErrors: [],
      nextId: () => ++lastId,
    };
    ensureUser(this.ctx, this.botUsername, true);
    server.on("request", this.buildApp());
  }

  /** Starts a simulator on 127.0.0.1 on a free port. */
  static async start(options: GitLabSimulatorOptions = {}): Promise<GitLabSimulator> {
    return new GitLabSimulator(await listenOnLoopback(), options);
  }

  /** REST API base URL, `${url}/api/v4`. */
  get apiUrl(): string {
    return this.ctx.api;
  }

  /** Every request answered, in order. */
  get requests(): readonly RequestRecord[] {
    return this.faults.requests;
  }

  /** Status posts refused with 400 because GitLab's state machine has no such transition; tests assert it stays empty. */
  get stateMachineErrors(): readonly StateMachineError[] {
    return this.ctx.stateMachineErrors;
  }

  /** Deployment status changes refused with 400 because GitLab's Deployment state machine has no such transition. */
  get deploymentTransitionErrors(): readonly DeploymentTransitionError[] {
    return this.ctx.deploymentTransitionErrors;
  }

  /** The project's environments, in creation order. */
  environments(pathWithNamespace: string): EnvironmentRecord[] {
    return [...this.simProject(pathWithNamespace).environments.values()].map((e) => ({ ...e }));
  }

  /** The project's deployments (optionally of one environment), in creation order, with the statuses each passed through. */
  deployments(pathWithNamespace: string, environment?: string): DeploymentRecord[] {
    return this.simProject(pathWithNamespace)
      .deployments.filter((d) => environment === undefined || d.environment === environment)
      .map((d) => ({ ...d, history: [...d.history] }));
  }

  /** Serves `repo` as project `pathWithNamespace` (e.g. `acme/shop`), with an id given or handed out; returns the project's id and path. */
  addProject(pathWithNamespace: string, repo: GitRepo, opts: { id?: number } = {}): GitLabProjectRef {
    const segments = pathWithNamespace.split("/");
    const name = segments.at(-1) ?? "";
    if (segments.length < 2 || segments.some((s) => s === ""))
      throw new Error(`project path must be "namespace/project", got ${pathWithNamespace}`);
    const id = opts.id ?? 100 + this.ctx.projects.size + 1;
    if (this.ctx.projects.has(id)) throw new Error(`project id ${id} is taken`);
    this.ctx.projects.set(id, {
      id,
      path: pathWithNamespace,
      name,
      git: repo,
      mergeRequests: new Map(),
      notes: [],
      issues: new Map(),
      issueNotes: [],
      labels: new Map(),
      statuses: [],
      statusLog: [],
      pipelines: new Map(),
      members: new Map([[this.botUsername.toLowerCase(), accessLevels.maintainer]]),
      archives: new Map(),
      environments: new Map(),
      deployments: [],
      mergeBlocks: new Map(),
    });
    return { id, path: pathWithNamespace };
  }

  /**
   * Makes merges into `branch` through the API answer `status` with `message`, as GitLab refuses a
   * merge whose checks fail (405 "405 Method Not Allowed") or a user who may not merge (401).
   */
  blockMerges(pathWithNamespace: string, branch: string, status: number, message: string): void {
    this.simProject(pathWithNamespace).mergeBlocks.set(branch, { status, message });
  }

  /** A merge request as it stands now (including those the token's user opened), or undefined. */
  mergeRequest(pathWithNamespace: string, iid: number): MergeRequestInput | undefined {
    const mr = this.simProject(pathWithNamespace).mergeRequests.get(iid);
    return mr === undefined ? undefined : { ...mr };
  }

  /** Serves `bytes` as the archive of `sha` instead of `git archive` of it (for hostile-archive tests). */
  serveArchive(pathWithNamespace: string, sha: string, bytes: Buffer): void {
    this.simProject(pathWithNamespace).archives.set(sha, bytes);
  }

  /** The id and path of a registered project. */
  project(pathWithNamespace: string): GitLabProjectRef {
    const { id, path } = this.simProject(pathWithNamespace);
    return { id, path };
  }

  /** Registers a user (users named by merge requests, notes and members are registered on their own). */
  addUser(username: string): { id: number; username: string } {
    const { id } = ensureUser(this.ctx, username);
    return { id, username };
  }

  /** A new access token acting as `username`, for tests that call the API as a person. */
  tokenFor(username: string): string {
    ensureUser(this.ctx, username);
    const token = `glpat-${randomBytes(10).toString("hex")}`;
    this.ctx.tokens.set(token, username);
    return token;
  }

  /** Sets `username`'s access level on the project (10 guest … 50 owner); 0 removes the membership. */
  setAccessLevel(pathWithNamespace: string, username: string, level: GitLabAccessLevel): void {
    const members = this.simProject(pathWithNamespace).members;
    ensureUser(this.ctx, username);
    if (level === accessLevels.none) members.delete(username.toLowerCase());
    else members.set(username.toLowerCase(), level);
  }

  /** Registers (or replaces) a merge request. */
  addMergeRequest(pathWithNamespace: string, mr: MergeRequestInput): void {
    ensureUser(this.ctx, mr.author);
    this.simProject(pathWithNamespace).mergeRequests.set(mr.iid, { ...mr });
  }

  /** Changes a registered merge request, e.g. its head after a push or its state once merged. */
  updateMergeRequest(pathWithNamespace: string, iid: number, patch: MergeRequestPatch): void {
    const mr = this.simProject(pathWithNamespace).mergeRequests.get(iid);
    if (mr === undefined)
      throw new Error(`merge request ${pathWithNamespace}!${iid} is not registered with the simulator`);
    if (patch.author !== undefined) ensureUser(this.ctx, patch.author);
    Object.assign(mr, patch);
  }

  /** Adds a note by `note.user` to a registered merge request, as a person writes it; returns its id. */
  addNote(pathWithNamespace: string, iid: number, note: UserNote): number {
    const project = this.simProject(pathWithNamespace);
    if (!project.mergeRequests.has(iid))
      throw new Error(`merge request ${pathWithNamespace}!${iid} is not registered with the simulator`);
    ensureUser(this.ctx, note.user);
    const now = timestamp();
    const id = this.ctx.nextId();
    project.notes.push({
      id,
      iid,
      body: note.body,
      author: note.user,
      system: note.system ?? false,
      edits: 0,
      awards: [],
      createdAt: now,
      updatedAt: now,
    });
    return id;
  }

  /** Opens an issue by `issue.author` (a person, unlike the issues Ferry opens); returns its iid. */
  addIssue(pathWithNamespace: string, issue: UserIssue): number {
    const project = this.simProject(pathWithNamespace);
    ensureUser(this.ctx, issue.author);
    const now = timestamp();
    const closed = issue.state === "closed";
    const iid = Math.max(0, ...project.issues.keys()) + 1;
    project.issues.set(iid, {
      iid,
      title: issue.title,
      description: issue.description ?? null,
      author: issue.author,
      state: issue.state ?? "opened",
      labels: ensureLabels(project, issue.labels ?? []),
      edits: 0,
      createdAt: now,
      updatedAt: now,
      closedAt: closed ? now : null,
      closedBy: closed ? issue.author : null,
    });
    return iid;
  }

  /** The project's issues, in iid order, as they stand now. */
  issues(pathWithNamespace: string): IssueRecord[] {
    return [...this.simProject(pathWithNamespace).issues.values()]
      .sort((a, b) => a.iid - b.iid)
      .map((i) => ({ ...i, labels: [...i.labels] }));
  }

  /** The current notes on an issue, in creation order. */
  issueNotes(pathWithNamespace: string, iid: number): NoteRecord[] {
    return this.simProject(pathWithNamespace)
      .issueNotes.filter((n) => n.iid === iid)
      .map((n) => ({ ...n, awards: n.awards.map((a) => ({ ...a })) }));
  }

  /** Names of the project's labels, in the order they were created. */
  labels(pathWithNamespace: string): string[] {
    return [...this.simProject(pathWithNamespace).labels.values()];
  }

  /** Every accepted status post on the project (optionally one sha), in the order received, as the status stood after it. */
  statuses(pathWithNamespace: string, sha?: string): StatusRecord[] {
    return this.simProject(pathWithNamespace)
      .statusLog.filter((s) => sha === undefined || s.sha === sha)
      .map((s) => ({ ...s }));
  }

  /** The current notes on a merge request, in creation order, with edit counts and award emoji. */
  notes(pathWithNamespace: string, iid: number): NoteRecord[] {
    return this.simProject(pathWithNamespace)
      .notes.filter((n) => n.iid === iid)
      .map((n) => ({ ...n, awards: n.awards.map((a) => ({ ...a })) }));
  }

  /**
   * Answers the next requests matching `matcher` with `responses`, one each, in order, before any
   * authentication or routing (for 5xx, 429 and network-level tests).
   */
  failNext(matcher: FaultMatcher, responses: FaultResponse[]): void {
    this.faults.add(matcher, responses);
  }

  /** Stops the server, dropping open keep-alive connections. */
  async close(): Promise<void> {
    await closeServer(this.server);
  }

  private simProject(pathWithNamespace: string): SimProject {
    const wanted = pathWithNamespace.toLowerCase();
    const project = [...this.ctx.projects.values()].find((p) => p.path.toLowerCase() === wanted);
    if (project === undefined) throw new Error(`project ${pathWithNamespace} is not registered with the simulator`);
    return project;
  }

  private buildApp(): Express {
    const app = express();
    app.disable("x-powered-by");
    app.disable("etag");
    app.use(this.faults.middleware());
    app.use((_req, res, next) => {
      res.set("x-request-id", randomBytes(13).toString("base64url").toUpperCase());
      res.set("x-gitlab-meta", JSON.stringify({ correlation_id: randomBytes(8).toString("hex"), version: "1" }));
      next();
    });
    app.use(express.json({ limit: "25mb" }), express.urlencoded({ extended: false, limit: "25mb" }));
    app.use(gitlabOAuthRoutes(this.ctx, this.oauth, apiPrefix));
    app.use(
      apiPrefix,
      userRoutes(this.ctx),
      repositoryRoutes(this.ctx),
      revertRoutes(this.ctx),
      statusRoutes(this.ctx),
      mergeRequestRoutes(this.ctx),
      issueRoutes(this.ctx),
      deploymentRoutes(this.ctx),
    );
    app.use((req, res) => {
      this.unhandled.push({ method: req.method, path: req.path });
      sendMessage(res, 404, "404 Not Found");
    });
    const onError: ErrorRequestHandler = (error: unknown, _req, res, _next) => {
      const parseFailure =
        typeof error === "object" && error !== null && "type" in error && error.type === "entity.parse.failed";
      if (parseFailure) res.status(400).json({ error: "400 Bad request - body is not valid JSON" });
      else
        sendMessage(
          res,
          500,
          `500 Internal Server Error: simulator error: ${error instanceof Error ? error.message : String(error)}`,
        );
    };
    app.use(onError);
    return app;
  }
}
