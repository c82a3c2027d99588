import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { CoreV1Api, KubeConfig, KubernetesObjectApi, type KubernetesObject } from "@kubernetes/client-node";
import { stringify } from "yaml";
import { loadServerConfig } from "../../src/config/server-config.js";
import { startFerry, type Roles, type RunningFerry } from "../../src/ferry.js";
import { createLogger } from "../../src/logger.js";
import type { Delivery, ForgeDouble, SeenComment, SeenStatus } from "./forge-doubles/forge-double.js";
import { GitHubDouble } from "./forge-doubles/github-double.js";
import { GitLabDouble } from "./forge-doubles/gitlab-double.js";
import { GitRepo } from "./git-repo.js";
import { testKubeConfig, testKubeConfigPath, uniqueName } from "./kube.js";
import { startTestRedis } from "./redis.js";
import { waitUntil } from "./wait-until.js";
import { letRead, registerWebClient, signIn, webLoginEnv } from "./web-login.js";

/** Who reads Ferry's pages in tests (`FerryHarness.page`): granted read on every repository `createRepo` makes. */
const PAGE_READER = "ferry-page-reader";

/** The name of the test cluster in the harness's server config. */
export const TEST_CLUSTER = "test";

/** The forges the end-to-end suites run against. */
export const FORGES = ["github", "gitlab"] as const;

/** A repository on the forge with a deploy environment whose namespace is the test's own. */
export interface TestRepo {
  fullName: string;
  git: GitRepo;
  namespace: string;
  /** Number for the next change. */
  nextChange: number;
}

/** An open change made by the harness, with the webhook of its last event (opened or pushed). */
export interface PullRequest {
  number: number;
  branch: string;
  headSha: string;
  fromFork: boolean;
  delivery: Delivery;
}

/**
 * One Ferry (web + worker in one process) wired to a real redis-server, the run's kube-apiserver and
 * a forge simulator, with verbs that make real commits and deliver the forge's own webhooks.
 */
export class FerryHarness {
  private constructor(
    /** The forge double Ferry talks to. */
    readonly forge: ForgeDouble,
    readonly ferry: RunningFerry,
    readonly kc: KubeConfig,
    /** Every line Ferry logged, as JSON text (level debug and up). */
    readonly logLines: string[],
    private readonly cleanups: Array<() => Promise<void>>,
    /** The server config Ferry runs with (for worker processes a test starts itself). */
    readonly configFile: string,
    /** The Redis Ferry uses. */
    readonly redisUrl: string,
    /** Whether the web view's sign-in is configured (then `page` reads pages as a signed-in reader). */
    readonly signedIn: boolean,
  ) {}

  private readerCookie: Promise<string> | undefined;

  /**
   * Starts Redis, the forge's simulator and Ferry; `env` adds to (or overrides) the forge's
   * environment for Ferry. Options: `roles` (default web and worker in this process), `kubeconfig`
   * (default the run's control plane; its context must be `ferry-test`), and other Ferry options.
   */
  static async start(
    kind: (typeof FORGES)[number] = "github",
    env: NodeJS.ProcessEnv = {},
    options: {
      roles?: Roles;
      kubeconfig?: string;
      claimMs?: number;
      serverConfig?: Record<string, unknown>;
      concurrency?: number;
      logLevel?: string;
      /** Space GitHub writes a second apart, as in production (tests turn it off). */
      githubWriteSpacing?: boolean;
      /**
       * Configure the web view's sign-in with the simulator's OAuth (default true): without it,
       * plan and rollout pages answer 404 to everyone.
       */
      signIn?: boolean;
    } = {},
  ): Promise<FerryHarness> {
    const cleanups: Array<() => Promise<void>> = [];
    const signedIn = options.signIn ?? true;
    const redis = await startTestRedis();
    cleanups.push(() => redis.stop());
    const forge: ForgeDouble = kind === "github" ? await GitHubDouble.start() : await GitLabDouble.start();
    cleanups.push(() => forge.close());
    const dir = await mkdtemp(join(tmpdir(), "ferry-harness-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const configFile = join(dir, "server.yml");
    await writeFile(
      configFile,
      stringify(
        options.serverConfig ?? {
          clusters: [
            { name: TEST_CLUSTER, context: "ferry-test", kubeconfig: options.kubeconfig ?? testKubeConfigPath() },
          ],
          policy: [
            { repositories: ["acme/*"], clusters: [TEST_CLUSTER], namespaces: ["e2e-*"], clusterScopedKinds: [] },
          ],
        },
      ),
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
      roles: options.roles ?? { web: true, worker: true },
      ...(options.claimMs === undefined ? {} : { claimMs: options.claimMs }),
      config: await loadServerConfig(configFile),
      log: createLogger({ level: options.logLevel ?? "debug", destination: sink }),
      port: 0,
      redisUrl: redis.url,
      dataDir: dir,
      env: { ...forge.ferryEnv(), ...(signedIn ? webLoginEnv(kind) : {}), ...env },
      concurrency: options.concurrency ?? 4,
      githubWriteSpacing: options.githubWriteSpacing ?? false,
    });
    cleanups.push(() => ferry.close());
    const kc = options.kubeconfig === undefined ? testKubeConfig() : new KubeConfig();
    if (options.kubeconfig !== undefined) kc.loadFromFile(options.kubeconfig);
    const h = new FerryHarness(forge, ferry, kc, logLines, cleanups, configFile, redis.url, signedIn);
    if (signedIn) registerWebClient(h);
    return h;
  }

  /**
   * Fetches one of Ferry's pages (a plan or rollout link from a status, or a path) as a signed-in
   * person who can read every repository `createRepo` made, as people on the forge open them.
   */
  async page(urlOrPath: string, init: RequestInit = {}): Promise<Response> {
    if (!this.signedIn) throw new Error("FerryHarness.page needs the sign-in (start without signIn: false)");
    this.readerCookie ??= signIn(this, this.forge.kind, PAGE_READER);
    const url = new URL(urlOrPath, this.url);
    const headers = new Headers(init.headers);
    headers.set("cookie", await this.readerCookie);
    return fetch(url, { ...init, headers });
  }

  /** Stops everything the harness started, newest first. */
  async close(): Promise<void> {
    for (const cleanup of this.cleanups.reverse()) await cleanup();
  }

  /** Ferry's base URL. */
  get url(): string {
    return this.ferry.url ?? "";
  }

  /** A new repository `acme/<random>` (or another owner's) with `.ferry.yml` deploying `deploy/` on main to a fresh namespace. */
  async createRepo(
    options: {
      environment?: Record<string, unknown>;
      environments?: (namespace: string) => Array<Record<string, unknown>>;
      owner?: string;
    } = {},
  ): Promise<TestRepo> {
    const fullName = `${options.owner ?? "acme"}/${uniqueName("shop")}`;
    const namespace = uniqueName("e2e");
    const git = await GitRepo.create();
    await git.writeFiles({
      ".ferry.yml": stringify({
        version: 1,
        environments: options.environments?.(namespace) ?? [
          { name: "staging", branch: "main", path: "deploy", cluster: TEST_CLUSTER, namespace, ...options.environment },
        ],
      }),
      "README.md": "test repository\n",
    });
    await git.commit("initial");
    this.forge.addRepo(fullName, git);
    if (this.signedIn) letRead(this, this.forge.kind, fullName, PAGE_READER, true);
    return { fullName, git, namespace, nextChange: 1 };
  }

  /** Opens a change from a new branch off main that writes `files` (null deletes); not yet delivered. */
  async openPullRequest(
    repo: TestRepo,
    files: Record<string, string | null>,
    options: { fromFork?: boolean } = {},
  ): Promise<PullRequest> {
    // GitHub numbers issues and pull requests from one sequence: skip the numbers Ferry's issues took.
    const taken = new Set(this.forge.issues(repo.fullName).map((i) => i.number));
    while (taken.has(repo.nextChange)) repo.nextChange++;
    const number = repo.nextChange++;
    const branch = `feature-${number}`;
    await repo.git.branch(branch, "main");
    await repo.git.checkout(branch);
    await repo.git.writeFiles(files);
    const headSha = await repo.git.commit(`change ${number}`);
    await repo.git.checkout("main");
    const change = { number, branch, headSha, fromFork: options.fromFork ?? false };
    this.forge.openChange(repo.fullName, change);
    return { ...change, delivery: this.forge.changeEvent(repo.fullName, change, "opened") };
  }

  /** Pushes another commit to a change's branch; returns it with its push webhook, not yet delivered. */
  async pushToPullRequest(repo: TestRepo, pr: PullRequest, files: Record<string, string | null>): Promise<PullRequest> {
    await repo.git.checkout(pr.branch);
    await repo.git.writeFiles(files);
    const headSha = await repo.git.commit(`update ${pr.number}`);
    await repo.git.checkout("main");
    const change = { ...pr, headSha };
    this.forge.updateChange(repo.fullName, change);
    return { ...change, delivery: this.forge.changeEvent(repo.fullName, change, "pushed") };
  }

  /** Merges a change into main (`--no-ff`); returns the merge commit and the merged webhook, not yet delivered. */
  async mergePullRequest(
    repo: TestRepo,
    pr: PullRequest,
  ): Promise<{ sha: string; number: number; delivery: Delivery }> {
    const sha = await repo.git.merge(pr.branch, "main", `Merge change ${pr.number}`);
    const change = { ...pr, mergeSha: sha, merged: true };
    this.forge.updateChange(repo.fullName, change);
    return { sha, number: pr.number, delivery: this.forge.mergedEvent(repo.fullName, change) };
  }

  /** Opens and merges a change that writes `files`: the merge commit and its merged webhook, not yet delivered. */
  async merge(
    repo: TestRepo,
    files: Record<string, string | null>,
  ): Promise<{ sha: string; number: number; delivery: Delivery }> {
    return this.mergePullRequest(repo, await this.openPullRequest(repo, files));
  }

  /** The webhook for main moving from `before` to `after`. */
  push(repo: TestRepo, before: string, after: string): Delivery {
    return this.forge.pushEvent(repo.fullName, "main", before, after);
  }

  /** A user's comment on a change, added to the forge; returns its webhook, not yet delivered. */
  comment(repo: TestRepo, pr: PullRequest, user: string, body: string): Delivery {
    return this.forge.commentEvent(repo.fullName, pr.number, user, body);
  }

  /** Delivers a webhook to Ferry as the forge would. */
  deliver(delivery: Delivery, deliveryId: string = randomUUID()): Promise<{ status: number; body: string }> {
    return this.forge.deliver(this.url, delivery, deliveryId);
  }

  /** Statuses of a commit (or all), in order. */
  statuses(repo: TestRepo, sha?: string): SeenStatus[] {
    return this.forge.statuses(repo.fullName, sha);
  }

  /** Every state of the plan results on a commit (GitHub: check runs; GitLab: statuses), in order. */
  planResults(repo: TestRepo, sha?: string): SeenStatus[] {
    return this.forge.planResults(repo.fullName, sha);
  }

  /** The latest status of `context` on any of the repository's commits (or on `sha`). */
  latestStatus(repo: TestRepo, context: string, sha?: string): SeenStatus | undefined {
    return this.statuses(repo, sha)
      .filter((s) => s.context === context)
      .at(-1);
  }

  /** Waits for the latest `context` status to be `state` with a description matching `pattern`; returns it. */
  async waitForLatestStatus(
    repo: TestRepo,
    context: string,
    state: SeenStatus["state"],
    pattern: RegExp,
    timeoutMs = 60_000,
  ): Promise<SeenStatus> {
    const matching = () => {
      const latest = this.latestStatus(repo, context);
      return latest?.state === state && pattern.test(latest.description) ? latest : undefined;
    };
    await waitUntil(
      () => `no ${state} ${context} matching ${pattern}; latest ${JSON.stringify(this.latestStatus(repo, context))}`,
      () => matching() !== undefined,
      timeoutMs,
      20,
    );
    return matching() as SeenStatus;
  }

  /** Waits until `sha` has a final (success or failure) status for `context`, and returns every status it got for it. */
  async finalStatus(
    repo: TestRepo,
    sha: string,
    context = "ferry/deploy/staging",
    timeoutMs = 60_000,
  ): Promise<SeenStatus[]> {
    // Plans are check runs on GitHub (statuses on GitLab): read them as the forge shows them.
    const all = () => (context.startsWith("ferry/plan") ? this.planResults(repo, sha) : this.statuses(repo, sha));
    const statuses = () => all().filter((s) => s.context === context);
    await waitUntil(
      () => `no final ${context} status on ${sha.slice(0, 7)} (got ${JSON.stringify(statuses())})`,
      () => statuses().some((s) => s.state === "success" || s.state === "failure"),
      timeoutMs,
      50,
    );
    return statuses();
  }

  /** Comments on a change now. */
  rawComments(repo: TestRepo, change: number): SeenComment[] {
    return this.forge.comments(repo.fullName, change);
  }

  /** Waits for the comments on a change to hold one matching `pattern`, and returns their bodies. */
  async comments(repo: TestRepo, change: number, pattern: RegExp = /./, timeoutMs = 30_000): Promise<string[]> {
    const bodies = () => this.rawComments(repo, change).map((c) => c.body);
    await waitUntil(
      () => `no comment matching ${pattern} on #${change} (got ${JSON.stringify(bodies())})`,
      () => bodies().some((b) => pattern.test(b)),
      timeoutMs,
      50,
    );
    return bodies();
  }

  /** Objects of a kind in a namespace, by name. */
  async list(
    apiVersion: string,
    kind: string,
    namespace: string,
  ): Promise<Map<string, KubernetesObject & Record<string, unknown>>> {
    const api = KubernetesObjectApi.makeApiClient(this.kc);
    const list = await api.list(apiVersion, kind, namespace);
    return new Map(
      list.items.map((item) => [item.metadata?.name ?? "", item as KubernetesObject & Record<string, unknown>]),
    );
  }

  /** True when the namespace exists. */
  async namespaceExists(name: string): Promise<boolean> {
    return this.kc
      .makeApiClient(CoreV1Api)
      .readNamespace({ name })
      .then(
        () => true,
        () => false,
      );
  }
}

/** A ConfigMap manifest as YAML. */
export function configMapYaml(name: string, data: Record<string, string>): string {
  return stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data });
}
