import type { GitRepo } from "../git-repo.js";
import { checkRunRerequested, checkSuiteRerequested } from "../check-webhooks.js";
import { defaultInstallationId, GitHubSimulator, type CheckRunRecord } from "../github-simulator.js";
import { issueCommentEvent, mergedPullRequest, pullRequestEvent, pushEvent, sendGitHubWebhook } from "../webhooks.js";
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

const SECRET = "harness-github-webhook-secret";

/** GitHub played by the GitHub simulator; Ferry reaches it as GitHub Enterprise Server. */
export class GitHubDouble implements ForgeDouble {
  readonly kind = "github";
  private constructor(readonly sim: GitHubSimulator) {}

  /** Starts the simulator. */
  static async start(): Promise<GitHubDouble> {
    return new GitHubDouble(await GitHubSimulator.start());
  }

  ferryEnv(): NodeJS.ProcessEnv {
    return {
      APP_ID: String(this.sim.appId),
      PRIVATE_KEY: this.sim.privateKeyPem,
      WEBHOOK_SECRET: SECRET,
      GHE_HOST: this.sim.host,
      GHE_PROTOCOL: "http",
    };
  }

  addRepo(fullName: string, git: GitRepo): void {
    this.sim.addRepo(fullName, git);
  }

  openChange(fullName: string, change: ChangeInfo): void {
    // A fork's head lives in the fork's repository, which is how GitHub tells Ferry it is one.
    const headRepo = change.fromFork ? `dev/${fullName.split("/")[1] ?? "fork"}` : undefined;
    this.sim.addPullRequest(fullName, {
      number: change.number,
      headSha: change.headSha,
      headRef: change.branch,
      baseRef: "main",
      user: "dev",
      ...(headRepo === undefined ? {} : { headRepo }),
    });
  }

  updateChange(fullName: string, change: ChangeInfo & { merged?: boolean }): void {
    this.sim.updatePullRequest(fullName, change.number, {
      headSha: change.headSha,
      ...(change.merged ? { merged: true, mergeCommitSha: change.mergeSha } : {}),
    });
  }

  changeEvent(fullName: string, change: ChangeInfo, action: "opened" | "pushed"): Delivery {
    const payload = pullRequestEvent({
      repo: fullName,
      action: action === "opened" ? "opened" : "synchronize",
      number: change.number,
      headSha: change.headSha,
      base: "main",
      headRef: change.branch,
      fromFork: change.fromFork ?? false,
      author: "dev",
    });
    return { event: "pull_request", payload };
  }

  mergedEvent(fullName: string, change: ChangeInfo): Delivery {
    return {
      event: "pull_request",
      payload: mergedPullRequest({
        repo: fullName,
        number: change.number,
        base: "main",
        headSha: change.headSha,
        headRef: change.branch,
        mergeCommitSha: change.mergeSha ?? "",
        mergedBy: "dev",
      }),
    };
  }

  pushEvent(fullName: string, branch: string, before: string, after: string): Delivery {
    return {
      event: "push",
      payload: pushEvent({ repo: fullName, ref: `refs/heads/${branch}`, before, after, pusher: "dev" }),
    };
  }

  commentEvent(fullName: string, change: number, user: string, body: string): Delivery {
    const commentId = this.sim.addComment(fullName, change, { user, body });
    return {
      event: "issue_comment",
      payload: issueCommentEvent({ repo: fullName, number: change, body, user, commentId }),
    };
  }

  deliver(ferryUrl: string, delivery: Delivery, deliveryId: string): Promise<{ status: number; body: string }> {
    return sendGitHubWebhook(ferryUrl, {
      event: delivery.event,
      payload: delivery.payload,
      secret: SECRET,
      deliveryId,
    });
  }

  statuses(fullName: string, sha?: string): SeenStatus[] {
    return this.sim.statuses(fullName, sha).map((s) => ({
      context: s.context,
      state: s.state === "error" ? "failure" : s.state,
      description: s.description ?? "",
      ...(s.target_url ? { targetUrl: s.target_url } : {}),
    }));
  }

  /** Plans are check runs on GitHub: every state of each `ferry/plan*` run, runs in creation order. */
  planResults(fullName: string, sha?: string): SeenStatus[] {
    return this.checkRuns(fullName, sha)
      .filter((run) => run.name.startsWith("ferry/plan"))
      .flatMap((run) =>
        run.history.map((h): SeenStatus => ({
          context: run.name,
          state:
            h.status !== "completed"
              ? "pending"
              : h.conclusion === "success" || h.conclusion === "neutral"
                ? "success"
                : "failure",
          description: h.title,
          ...(run.details_url === null ? {} : { targetUrl: run.details_url }),
        })),
      );
  }

  /** The repository's check runs (optionally on one sha), in creation order, with annotations and history. */
  checkRuns(fullName: string, sha?: string): CheckRunRecord[] {
    return this.sim.checkRuns(fullName, sha);
  }

  /**
   * "Re-run" clicked on check run `id`: GitHub's `check_run.rerequested` for it, sent (as GitHub
   * sends it) only when Ferry's app made the run; throws for a run the app did not make.
   */
  rerunCheck(fullName: string, id: number, sender = "dev"): Delivery {
    const run = this.sim.checkRuns(fullName).find((r) => r.id === id);
    if (run === undefined || run.app !== this.sim.appSlug)
      throw new Error(`GitHub sends check_run.rerequested only to the app that made run ${id}`);
    return {
      event: "check_run",
      payload: checkRunRerequested(run, this.rerequestOptions(fullName, run.head_sha, sender)),
    };
  }

  /** "Re-run all checks" on the suite of `sha` holding Ferry's runs: GitHub's `check_suite.rerequested`. */
  rerunSuite(fullName: string, sha: string, sender = "dev"): Delivery {
    const run = this.sim.checkRuns(fullName, sha).find((r) => r.app === this.sim.appSlug);
    if (run === undefined) throw new Error(`Ferry's app has no check suite on ${sha}`);
    return {
      event: "check_suite",
      payload: checkSuiteRerequested(sha, run.suiteId, this.rerequestOptions(fullName, sha, sender)),
    };
  }

  /** Takes away the installation's `checks` permission (plans fall back to commit statuses). */
  denyChecks(): void {
    const granted = this.sim.installationPermissions(defaultInstallationId);
    delete granted["checks"];
    this.sim.setInstallationPermissions(defaultInstallationId, granted);
  }

  private rerequestOptions(fullName: string, sha: string, sender: string) {
    return {
      repo: fullName,
      repoId: this.sim.repoId(fullName),
      sender,
      pullRequests: this.sim.checkPullRequests(fullName, sha),
    };
  }

  comments(fullName: string, change: number): SeenComment[] {
    return this.sim
      .comments(fullName, change)
      .map((c) => ({ id: c.id, body: c.body, edits: c.edits, reactions: c.reactions }));
  }

  deployments(fullName: string, environment?: string): SeenDeployment[] {
    return this.sim.deployments(fullName, environment).map((d) => {
      const url = [...d.statuses].reverse().find((s) => s.environment_url !== "")?.environment_url;
      return {
        id: d.id,
        environment: d.environment,
        sha: d.sha,
        ref: d.ref,
        creator: d.creator,
        states: d.statuses.map((s) => s.state),
        descriptions: d.statuses.map((s) => s.description),
        logUrls: d.statuses.map((s) => s.log_url),
        ...(url === undefined ? {} : { environmentUrl: url }),
        production: d.production_environment,
        transient: d.transient_environment,
        payload: d.payload,
      };
    });
  }

  /** The installation loses `deployments` (GitHub grants permissions per installation, not per repository). */
  denyDeployments(_fullName: string): void {
    const granted = this.sim.installationPermissions(defaultInstallationId);
    delete granted["deployments"];
    this.sim.setInstallationPermissions(defaultInstallationId, granted);
  }

  issues(fullName: string): SeenIssue[] {
    return this.sim.issues(fullName).map((i) => ({
      number: i.number,
      title: i.title,
      body: i.body ?? "",
      state: i.state,
      author: i.user,
      labels: i.labels,
      edits: i.edits,
      comments: this.sim.comments(fullName, i.number).map((c) => c.body),
    }));
  }

  setAccess(fullName: string, user: string, access: "read" | "write" | "admin"): void {
    this.sim.setPermission(fullName, user, access);
  }

  failNext(matcher: FaultMatcher, responses: FaultResponse[]): void {
    this.sim.failNext(matcher, responses);
  }

  requests(): readonly RequestRecord[] {
    return this.sim.requests;
  }

  apiPaths(fullName: string): ForgeApiPaths {
    return {
      statuses: `/repos/${fullName}/statuses/`,
      comments: (change) => `/repos/${fullName}/issues/${change}/comments`,
      archive: `/repos/${fullName}/tarball/`,
      // Octokit sends the ref encoded (heads%2Fmain).
      branch: `/repos/${fullName}/git/ref/heads`,
      issues: `/repos/${fullName}/issues`,
      mergedChanges: (sha) => `/repos/${fullName}/commits/${sha}/pulls`,
      access: `/repos/${fullName}/collaborators/`,
    };
  }

  serveArchive(fullName: string, sha: string, bytes: Buffer): void {
    this.sim.serveArchive(fullName, sha, bytes);
  }

  refusedTransitions(): readonly unknown[] {
    return [];
  }

  change(fullName: string, number: number): HeldChange | undefined {
    const pr = this.sim.pullRequest(fullName, number);
    return pr === undefined
      ? undefined
      : {
          number,
          branch: pr.headRef,
          headSha: pr.headSha,
          ...(pr.mergeCommitSha === undefined ? {} : { mergeSha: pr.mergeCommitSha }),
          merged: pr.merged === true,
          title: pr.title ?? `Pull request #${number}`,
          body: pr.body ?? "",
          author: pr.user,
        };
  }

  refuseMerges(fullName: string, branch: string): void {
    this.sim.protectBranch(fullName, branch, "At least 1 approving review is required by reviewers with write access.");
  }

  close(): Promise<void> {
    return this.sim.close();
  }
}
