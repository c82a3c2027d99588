import type { GitRepo } from "../git-repo.js";
import { accessLevels, GitLabSimulator } from "../gitlab-simulator.js";
import {
  gitlabMergeRequestEvent,
  gitlabNoteEvent,
  gitlabPushEvent,
  sendGitLabWebhook,
  type GitLabEventName,
} from "../gitlab-webhooks.js";
import type { FaultMatcher, FaultResponse, RequestRecord } from "../simulator-faults.js";
import type {
  ChangeInfo,
  Delivery,
  ForgeApiPaths,
  ForgeDouble,
  HeldChange,
  SeenComment,
  SeenDeployment,
  SeenIssue,
  SeenStatus,
} from "./forge-double.js";

const SECRET = "harness-gitlab-webhook-secret";

/** GitLab played by the GitLab simulator, with its commit status state machine enforced. */
export class GitLabDouble implements ForgeDouble {
  readonly kind = "gitlab";
  private readonly heads = new Map<string, string>();
  private constructor(readonly sim: GitLabSimulator) {}

  /** Starts the simulator. */
  static async start(): Promise<GitLabDouble> {
    return new GitLabDouble(await GitLabSimulator.start());
  }

  ferryEnv(): NodeJS.ProcessEnv {
    return { GITLAB_URL: this.sim.url, GITLAB_TOKEN: this.sim.token, GITLAB_WEBHOOK_SECRET: SECRET };
  }

  addRepo(fullName: string, git: GitRepo): void {
    this.sim.addProject(fullName, git);
  }

  openChange(fullName: string, change: ChangeInfo): void {
    this.sim.addMergeRequest(fullName, {
      iid: change.number,
      sourceBranch: change.branch,
      targetBranch: "main",
      sha: change.headSha,
      author: "dev",
      fromFork: change.fromFork ?? false,
    });
    this.heads.set(`${fullName}!${change.number}`, change.headSha);
  }

  updateChange(fullName: string, change: ChangeInfo & { merged?: boolean }): void {
    this.sim.updateMergeRequest(fullName, change.number, {
      sha: change.headSha,
      ...(change.merged ? { mergeCommitSha: change.mergeSha, state: "merged" as const } : {}),
    });
  }

  changeEvent(fullName: string, change: ChangeInfo, action: "opened" | "pushed"): Delivery {
    const key = `${fullName}!${change.number}`;
    const oldrev = this.heads.get(key);
    this.heads.set(key, change.headSha);
    const payload = gitlabMergeRequestEvent({
      project: this.sim.project(fullName),
      iid: change.number,
      action: action === "opened" ? "open" : "update",
      sourceBranch: change.branch,
      targetBranch: "main",
      lastCommitSha: change.headSha,
      ...(action === "pushed" && oldrev ? { oldrev } : {}),
      fromFork: change.fromFork ?? false,
      user: "dev",
    });
    return { event: "Merge Request Hook", payload };
  }

  mergedEvent(fullName: string, change: ChangeInfo): Delivery {
    const payload = gitlabMergeRequestEvent({
      project: this.sim.project(fullName),
      iid: change.number,
      action: "merge",
      sourceBranch: change.branch,
      targetBranch: "main",
      lastCommitSha: change.headSha,
      mergeCommitSha: change.mergeSha ?? "",
      user: "dev",
    });
    return { event: "Merge Request Hook", payload };
  }

  pushEvent(fullName: string, branch: string, before: string, after: string): Delivery {
    return {
      event: "Push Hook",
      payload: gitlabPushEvent({
        project: this.sim.project(fullName),
        ref: `refs/heads/${branch}`,
        before,
        after,
        user: "dev",
      }),
    };
  }

  commentEvent(fullName: string, change: number, user: string, body: string): Delivery {
    const noteId = this.sim.addNote(fullName, change, { user, body });
    return {
      event: "Note Hook",
      payload: gitlabNoteEvent({ project: this.sim.project(fullName), iid: change, body, user, noteId }),
    };
  }

  deliver(ferryUrl: string, delivery: Delivery, deliveryId: string): Promise<{ status: number; body: string }> {
    return sendGitLabWebhook(ferryUrl, {
      event: delivery.event as GitLabEventName,
      payload: delivery.payload,
      token: SECRET,
      uuid: deliveryId,
    });
  }

  statuses(fullName: string, sha?: string): SeenStatus[] {
    return this.sim.statuses(fullName, sha).map((s) => ({
      context: s.name,
      state:
        s.status === "failed" || s.status === "canceled" ? "failure" : s.status === "created" ? "pending" : s.status,
      description: s.description ?? "",
      ...(s.targetUrl ? { targetUrl: s.targetUrl } : {}),
    }));
  }

  /** GitLab has no checks: plans are the `ferry/plan*` commit statuses. */
  planResults(fullName: string, sha?: string): SeenStatus[] {
    return this.statuses(fullName, sha).filter((s) => s.context.startsWith("ferry/plan"));
  }

  comments(fullName: string, change: number): SeenComment[] {
    return this.sim
      .notes(fullName, change)
      .filter((n) => !n.system)
      .map((n) => ({ id: n.id, body: n.body, edits: n.edits, reactions: n.awards.map((a) => a.name) }));
  }

  issues(fullName: string): SeenIssue[] {
    return this.sim.issues(fullName).map((i) => ({
      number: i.iid,
      title: i.title,
      body: i.description ?? "",
      state: i.state === "opened" ? "open" : "closed",
      author: i.author,
      labels: i.labels,
      edits: i.edits,
      comments: this.sim
        .issueNotes(fullName, i.iid)
        .filter((n) => !n.system)
        .map((n) => n.body),
    }));
  }

  setAccess(fullName: string, user: string, access: "read" | "write" | "admin"): void {
    // Reporter, Developer, Maintainer.
    this.sim.setAccessLevel(fullName, user, ({ read: 20, write: 30, admin: 40 } as const)[access]);
  }

  failNext(matcher: FaultMatcher, responses: FaultResponse[]): void {
    this.sim.failNext(matcher, responses);
  }

  requests(): readonly RequestRecord[] {
    return this.sim.requests;
  }

  apiPaths(fullName: string): ForgeApiPaths {
    const { id } = this.sim.project(fullName);
    return {
      statuses: `/projects/${id}/statuses/`,
      comments: (change) => `/projects/${id}/merge_requests/${change}/notes`,
      archive: `/projects/${id}/repository/archive`,
      branch: `/projects/${id}/repository/branches/main`,
      issues: `/projects/${id}/issues`,
      mergedChanges: (sha) => `/projects/${id}/repository/commits/${sha}/merge_requests`,
      // Ferry finds the user first (GET /users?username=…), then reads the membership.
      access: "/users",
    };
  }

  serveArchive(fullName: string, sha: string, bytes: Buffer): void {
    this.sim.serveArchive(fullName, sha, bytes);
  }

  refusedTransitions(): readonly unknown[] {
    return [...this.sim.stateMachineErrors, ...this.sim.deploymentTransitionErrors];
  }

  deployments(fullName: string, environment?: string): SeenDeployment[] {
    const environments = this.sim.environments(fullName);
    return this.sim.deployments(fullName, environment).map((d) => {
      const env = environments.find((e) => e.name === d.environment);
      return {
        id: d.id,
        environment: d.environment,
        sha: d.sha,
        ref: d.ref,
        creator: d.user,
        states: d.history.slice(1),
        descriptions: [],
        logUrls: [],
        ...(env?.externalUrl ? { environmentUrl: env.externalUrl } : {}),
        production: env?.tier === "production",
        transient: false,
      };
    });
  }

  denyDeployments(fullName: string): void {
    this.sim.setAccessLevel(fullName, this.sim.botUsername, accessLevels.reporter);
  }

  change(fullName: string, number: number): HeldChange | undefined {
    const mr = this.sim.mergeRequest(fullName, number);
    return mr === undefined
      ? undefined
      : {
          number,
          branch: mr.sourceBranch,
          headSha: mr.sha,
          ...(mr.mergeCommitSha === undefined ? {} : { mergeSha: mr.mergeCommitSha }),
          merged: (mr.state ?? (mr.mergeCommitSha === undefined ? "opened" : "merged")) === "merged",
          title: mr.title ?? `Merge request !${number}`,
          body: mr.description ?? "",
          author: mr.author,
        };
  }

  refuseMerges(fullName: string, branch: string): void {
    this.sim.blockMerges(fullName, branch, 405, "405 Method Not Allowed");
  }

  close(): Promise<void> {
    return this.sim.close();
  }
}
