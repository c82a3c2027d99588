import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { CoreV1Api, KubernetesObjectApi, type KubeConfig, type KubernetesObject } from "@kubernetes/client-node";
import { stringify } from "yaml";
import { loadServerConfig } from "../../src/config/server-config.js";
import { startFerry, type RunningFerry } from "../../src/ferry.js";
import { createLogger } from "../../src/logger.js";
import { GitRepo } from "./git-repo.js";
import { GitHubSimulator } from "./github-simulator.js";
import type { StatusRecord } from "./github-simulator/model.js";
import { testKubeConfig, testKubeConfigPath, uniqueName } from "./kube.js";
import { startTestRedis } from "./redis.js";
import { Writable } from "node:stream";
import { issueCommentEvent, mergedPullRequest, pullRequestEvent, pushEvent, sendGitHubWebhook } from "./webhooks.js";

/** The webhook secret the harness's Ferry and its deliveries share. */
export const WEBHOOK_SECRET = "harness-webhook-secret";
/** The name of the test cluster in the harness's server config. */
export const TEST_CLUSTER = "test";

/** A repository in the simulator with a deploy environment whose namespace is the test's own. */
export interface TestRepo {
  fullName: string;
  git: GitRepo;
  namespace: string;
  /** Number for the next pull request. */
  nextChange: number;
}

/**
 * One Ferry (web + worker in one process) wired to a real redis-server, the run's kube-apiserver and
 * the GitHub simulator, with helpers that merge real commits and deliver signed webhooks.
 */
export class FerryHarness {
  private constructor(
    readonly sim: GitHubSimulator,
    readonly ferry: RunningFerry,
    readonly kc: KubeConfig,
    /** Every line Ferry logged, as JSON text (level debug and up). */
    readonly logLines: string[],
    private readonly cleanups: Array<() => Promise<void>>,
  ) {}

  /** Starts Redis, the simulator and Ferry. */
  static async start(): Promise<FerryHarness> {
    const cleanups: Array<() => Promise<void>> = [];
    const redis = await startTestRedis();
    cleanups.push(() => redis.stop());
    const sim = await GitHubSimulator.start();
    cleanups.push(() => sim.close());
    const dir = await mkdtemp(join(tmpdir(), "ferry-harness-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const configFile = join(dir, "server.yml");
    await writeFile(
      configFile,
      stringify({
        clusters: [{ name: TEST_CLUSTER, context: "ferry-test", kubeconfig: testKubeConfigPath() }],
        policy: [{ repositories: ["acme/*"], clusters: [TEST_CLUSTER], namespaces: ["e2e-*"], clusterScopedKinds: [] }],
      }),
    );
    const logLines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
        if (process.env.FERRY_TEST_LOG) process.stderr.write(chunk);
        done();
      },
    });
    const ferry = await startFerry({
      roles: { web: true, worker: true },
      config: await loadServerConfig(configFile),
      log: createLogger({ level: "debug", destination: sink }),
      port: 0,
      redisUrl: redis.url,
      dataDir: dir,
      env: { APP_ID: String(sim.appId), PRIVATE_KEY: sim.privateKeyPem, WEBHOOK_SECRET, GHE_HOST: sim.host, GHE_PROTOCOL: "http" },
      concurrency: 4,
      githubWriteSpacing: false,
    });
    cleanups.push(() => ferry.close());
    return new FerryHarness(sim, ferry, testKubeConfig(), logLines, cleanups);
  }

  /** Stops everything the harness started, newest first. */
  async close(): Promise<void> {
    for (const cleanup of this.cleanups.reverse()) await cleanup();
  }

  /** Ferry's base URL. */
  get url(): string {
    return this.ferry.url ?? "";
  }

  /** A new repository `acme/<random>` with `.ferry.yml` deploying `deploy/` on main to a fresh namespace. */
  async createRepo(options: { environment?: Record<string, unknown> } = {}): Promise<TestRepo> {
    const fullName = `acme/${uniqueName("shop")}`;
    const namespace = uniqueName("e2e");
    const git = await GitRepo.create();
    await git.writeFiles({
      ".ferry.yml": stringify({ version: 1, environments: [{ name: "staging", branch: "main", path: "deploy", cluster: TEST_CLUSTER, namespace, ...options.environment }] }),
      "README.md": "test repository\n",
    });
    await git.commit("initial");
    this.sim.addRepo(fullName, git);
    return { fullName, git, namespace, nextChange: 1 };
  }

  /**
   * Merges a change that writes `files` (null deletes) through a pull request: a feature branch, a
   * `--no-ff` merge into main, the pull request registered with the simulator. Returns the merge
   * commit and the merged `pull_request.closed` payload, not yet delivered.
   */
  async merge(repo: TestRepo, files: Record<string, string | null>): Promise<{ sha: string; number: number; payload: object }> {
    const number = repo.nextChange++;
    const branch = `feature-${number}`;
    await repo.git.branch(branch, "main");
    await repo.git.checkout(branch);
    await repo.git.writeFiles(files);
    const headSha = await repo.git.commit(`change ${number}`);
    const sha = await repo.git.merge(branch, "main", `Merge pull request #${number}`);
    this.sim.addPullRequest(repo.fullName, { number, headSha, headRef: branch, baseRef: "main", mergeCommitSha: sha, merged: true, user: "dev" });
    return { sha, number, payload: mergedPullRequest({ repo: repo.fullName, number, base: "main", headSha, headRef: branch, mergeCommitSha: sha, mergedBy: "dev" }) };
  }

  /** Opens a pull request from a new branch off main that writes `files`; returns it and its `opened` payload, not yet delivered. */
  async openPullRequest(repo: TestRepo, files: Record<string, string | null>, options: { fromFork?: boolean } = {}): Promise<PullRequest> {
    const number = repo.nextChange++;
    const branch = `feature-${number}`;
    await repo.git.branch(branch, "main");
    await repo.git.checkout(branch);
    await repo.git.writeFiles(files);
    const headSha = await repo.git.commit(`change ${number}`);
    await repo.git.checkout("main");
    this.sim.addPullRequest(repo.fullName, { number, headSha, headRef: branch, baseRef: "main", user: "dev" });
    const payload = pullRequestEvent({ repo: repo.fullName, action: "opened", number, headSha, base: "main", headRef: branch, fromFork: options.fromFork ?? false, author: "dev" });
    return { number, branch, headSha, payload };
  }

  /** Pushes another commit to a pull request's branch; returns its `synchronize` payload, not yet delivered. */
  async pushToPullRequest(repo: TestRepo, pr: PullRequest, files: Record<string, string | null>): Promise<PullRequest> {
    await repo.git.checkout(pr.branch);
    await repo.git.writeFiles(files);
    const headSha = await repo.git.commit(`update ${pr.number}`);
    await repo.git.checkout("main");
    this.sim.updatePullRequest(repo.fullName, pr.number, { headSha });
    const payload = pullRequestEvent({ repo: repo.fullName, action: "synchronize", number: pr.number, headSha, base: "main", headRef: pr.branch, author: "dev" });
    return { ...pr, headSha, payload };
  }

  /** Merges a pull request into main; returns the merge commit and the merged `pull_request.closed` payload, not yet delivered. */
  async mergePullRequest(repo: TestRepo, pr: PullRequest): Promise<{ sha: string; payload: object }> {
    const sha = await repo.git.merge(pr.branch, "main", `Merge pull request #${pr.number}`);
    this.sim.updatePullRequest(repo.fullName, pr.number, { mergeCommitSha: sha, merged: true });
    return { sha, payload: mergedPullRequest({ repo: repo.fullName, number: pr.number, base: "main", headSha: pr.headSha, headRef: pr.branch, mergeCommitSha: sha, mergedBy: "dev" }) };
  }

  /** A user's comment on a pull request, added to the simulator; returns its `issue_comment.created` payload, not yet delivered. */
  comment(repo: TestRepo, pr: PullRequest, user: string, body: string): object {
    const commentId = this.sim.addComment(repo.fullName, pr.number, { user, body });
    return issueCommentEvent({ repo: repo.fullName, number: pr.number, body, user, commentId });
  }

  /** A `push` payload for the main branch moving from `before` to `after`. */
  push(repo: TestRepo, before: string, after: string): object {
    return pushEvent({ repo: repo.fullName, ref: "refs/heads/main", before, after, pusher: "dev" });
  }

  /** Delivers a signed webhook to Ferry. */
  deliver(event: string, payload: object, deliveryId: string = randomUUID()): Promise<{ status: number; body: string }> {
    return sendGitHubWebhook(this.url, { event, payload, secret: WEBHOOK_SECRET, deliveryId });
  }

  /** Waits until `sha` has a final (success, failure or error) status for `context`, and returns every status it got for it. */
  async finalStatus(repo: TestRepo, sha: string, context = "ferry/deploy/staging", timeoutMs = 60_000): Promise<StatusRecord[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const statuses = this.sim.statuses(repo.fullName, sha).filter((s) => s.context === context);
      if (statuses.some((s) => s.state !== "pending")) return statuses;
      if (Date.now() > deadline) throw new Error(`no final ${context} status on ${sha.slice(0, 7)} within ${timeoutMs} ms; got ${JSON.stringify(statuses)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits for the comments on a change to hold one matching `pattern`, and returns their bodies. */
  async comments(repo: TestRepo, change: number, pattern: RegExp = /./, timeoutMs = 30_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const bodies = this.sim.comments(repo.fullName, change).map((c) => c.body);
      if (bodies.some((b) => pattern.test(b))) return bodies;
      if (Date.now() > deadline) throw new Error(`no comment matching ${pattern} on #${change} within ${timeoutMs} ms; got ${JSON.stringify(bodies)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Objects of a kind in a namespace, by name. */
  async list(apiVersion: string, kind: string, namespace: string): Promise<Map<string, KubernetesObject & Record<string, unknown>>> {
    const api = KubernetesObjectApi.makeApiClient(this.kc);
    const list = await api.list(apiVersion, kind, namespace);
    return new Map(list.items.map((item) => [item.metadata?.name ?? "", item as KubernetesObject & Record<string, unknown>]));
  }

  /** True when the namespace exists. */
  async namespaceExists(name: string): Promise<boolean> {
    return this.kc
      .makeApiClient(CoreV1Api)
      .readNamespace({ name })
      .then(() => true, () => false);
  }
}

/** An open pull request made by the harness. */
export interface PullRequest {
  number: number;
  branch: string;
  headSha: string;
  /** The payload of the last event made for it (opened or synchronize). */
  payload: object;
}

/** A ConfigMap manifest as YAML. */
export function configMapYaml(name: string, data: Record<string, string>): string {
  return stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data });
}
