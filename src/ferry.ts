import { randomUUID } from "node:crypto";
import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import { join } from "node:path";
import type { RedisOptions } from "ioredis";
import type { Router } from "express";
import type { Logger } from "pino";
import { createProbot } from "probot";
import { AgentQueues } from "./agent/agent-queues.js";
import { AuditLog } from "./audit/audit-log.js";
import { AuditTrail } from "./audit/audit-trail.js";
import { keepAuditRetention } from "./audit/keep-audit-retention.js";
import { byteSize } from "./config/byte-size.js";
import { durationMs } from "./config/duration.js";
import { publicUrlOf } from "./config/public-url.js";
import type { ServerConfig } from "./config/server-config.js";
import { permanent } from "./errors.js";
import { ferryOctokit } from "./forge/github/ferry-octokit.js";
import { githubForgeFactory } from "./forge/github/github-forge-factory.js";
import { gitlabForgeFactory } from "./forge/gitlab/gitlab-forge-factory.js";
import type { ForgeFactory } from "./forge/types.js";
import { runCommandJob } from "./jobs/command-job.js";
import { RevertStore } from "./revert/revert-store.js";
import { runDeployJob } from "./jobs/deploy-job.js";
import type { ReleaseDeps } from "./jobs/release-deps.js";
import { healBranch, runReconcileJob } from "./jobs/reconcile-job.js";
import { runReleaseJob } from "./jobs/release-job.js";
import { runRolloutJob } from "./jobs/rollout-job.js";
import { RolloutStore } from "./rollout/rollout-store.js";
import { runPlanJob } from "./jobs/plan-job.js";
import { PlanStore } from "./plan/plan-store.js";
import { Queues } from "./queue/queues.js";
import { planRoute } from "./web/plan-route.js";
import { rolloutRoute } from "./web/rollout-route.js";
import { startWorkers } from "./worker/start-workers.js";
import { startDriftWatch } from "./watch/drift-watch.js";
import { WatchRegistry } from "./watch/watch-registry.js";
import { startAgentWatchSignals } from "./agent/agent-watch-signals.js";
import { cachedLiveReader } from "./watch/cached-live-reader.js";
import { WatchCaches } from "./watch/watch-caches.js";
import { holderAttempt, routePlan, runHandedPlan } from "./jobs/plan-route.js";
import { handoverQueueName, PlanHandover } from "./queue/plan-handover.js";
import { FreezeStore } from "./freeze/freeze-store.js";
import { ClusterRegistry } from "./kube/cluster-registry.js";
import { createRenderer } from "./render/select-renderer.js";
import { Metrics } from "./metrics/metrics.js";
import {
  describeRedis,
  openRedis,
  queueLayout,
  redisIsUp,
  type RedisClient,
  type RedisTarget,
} from "./queue/redis-connection.js";
import { startRedisServer, type RedisServer } from "./redis/redis-server.js";
import { githubIntake } from "./forge/github/github-intake.js";
import { gitlabIntake } from "./forge/gitlab/gitlab-intake.js";
import type { WebhookIntake } from "./forge/webhook-intake.js";
import { webhookRoute } from "./web/webhook-route.js";
import { adminCredentialsFromEnv, queueDashboardRoute } from "./web/queue-dashboard-route.js";
import { createWebApp } from "./web/web-app.js";
import { EnvironmentViews } from "./web/environment-views.js";
import { loginRoute } from "./web/login-route.js";
import { RepoAccess } from "./web/repo-access.js";
import { noSignInGuard, repoGuard } from "./web/repo-guard.js";
import { webLoginFromEnv } from "./web/web-login-config.js";
import { WebViewer } from "./web/web-viewer.js";
import { webViewRoute } from "./web/web-view-route.js";
import { WebSessions } from "./web/web-sessions.js";

/** Which parts of Ferry run in this process. */
export interface Roles {
  web: boolean;
  worker: boolean;
}

/** Everything `startFerry` needs; the CLI builds it from flags and the environment. */
export interface FerryOptions {
  roles: Roles;
  config: ServerConfig;
  log: Logger;
  /** HTTP port (webhooks for the web role; health and metrics for every role); 0 picks a free one. */
  port: number;
  /** Redis to use by URL; without it (or `redis`) Ferry starts an embedded `redis-server` with data under `dataDir`. */
  redisUrl?: string;
  /** Redis to use by URL, through Sentinel, or as a Cluster; wins over `redisUrl`. */
  redis?: RedisTarget;
  /** Where the embedded Redis keeps its append-only file. */
  dataDir: string;
  /** Process environment for Probot's settings (APP_ID, PRIVATE_KEY, WEBHOOK_SECRET, GHE_HOST...). */
  env: NodeJS.ProcessEnv;
  /** Space GitHub writes 1 s apart per installation, as GitHub asks of integrators (default on; tests turn it off). */
  githubWriteSpacing?: boolean;
  /** How many jobs one worker runs at once. */
  concurrency?: number;
  /** How long a dead worker's jobs and release locks stay claimed before another worker takes them over (default 30 s). */
  claimMs?: number;
}

/** A running Ferry. */
export interface RunningFerry {
  /** Base URL of the HTTP server (webhooks for the web role; health and metrics for every role). */
  url?: string;
  /** Where the Redis in use is (embedded or given), without credentials. */
  redis: string;
  /** The process's metrics, as `/metrics` serves them. */
  metrics: Metrics;
  /**
   * Stops taking work, lets running jobs finish, closes Redis connections and the embedded Redis;
   * rejects (after every step ran) when a step failed, such as jobs abandoned while Redis was away.
   */
  close(): Promise<void>;
}

/** True when Probot has what it needs to act as the GitHub App. */
export function githubAppConfigured(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.APP_ID && (env.PRIVATE_KEY || env.PRIVATE_KEY_PATH) && env.WEBHOOK_SECRET);
}

/** The composition root: starts Redis (if embedded), the HTTP server, the web role and the worker role. */
export async function startFerry(options: FerryOptions): Promise<RunningFerry> {
  const { log } = options;
  const metrics = new Metrics();
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    const failures: unknown[] = [];
    for (const closer of closers.reverse())
      await closer().catch((error: unknown) => {
        log.error({ err: error }, "shutdown step failed");
        failures.push(error);
      });
    // Every step ran; the caller still learns that one failed (`ferry` then exits non-zero).
    const reasons = failures.map((e) => (e instanceof Error ? e.message : String(e)));
    if (failures.length > 0) throw new AggregateError(failures, reasons.join("; "));
  };
  try {
    let target = options.redis ?? (options.redisUrl ? { kind: "url" as const, url: options.redisUrl } : undefined);
    if (!target) {
      const embedded: RedisServer = await startRedisServer({ dir: join(options.dataDir, "redis") });
      closers.push(() => embedded.stop());
      target = { kind: "url", url: embedded.url };
      log.info(
        { redis: embedded.url, dir: join(options.dataDir, "redis") },
        "started embedded redis-server (set REDIS_URL to use your own)",
      );
    } else {
      log.info({ redis: describeRedis(target) }, "using redis");
    }
    const redisTarget = target;
    const layout = queueLayout(redisTarget);
    const connect = (connectionOptions: RedisOptions = {}): RedisClient => {
      const connection = openRedis(redisTarget, connectionOptions);
      closers.push(() => quit(connection));
      return connection;
    };
    const githubConfigured = githubAppConfigured(options.env);
    const gitlab = {
      url: options.env.GITLAB_URL,
      token: options.env.GITLAB_TOKEN,
      webhookSecret: options.env.GITLAB_WEBHOOK_SECRET,
    };
    // Probot is the GitHub App: it verifies webhook signatures and authenticates as installations.
    // It is not given REDIS_URL: with it Probot clusters its request limiters through Redis, where a
    // worker killed during a GitHub call keeps the installation's token or write slot for 60 s
    // (the throttling plugin's job expiration), stalling every other worker's calls that long.
    const probot = githubConfigured
      ? createProbot({
          env: { ...options.env, REDIS_URL: undefined },
          overrides: {
            log: log.child({ component: "probot" }),
            Octokit: ferryOctokit({
              writeSpacing: options.githubWriteSpacing ?? true,
              metrics: metrics.forgeApi("github"),
            }),
          },
        })
      : undefined;
    const running: RunningFerry = { redis: describeRedis(redisTarget), metrics, close };

    // Intake, readiness and queue depth share a connection with no offline queue: while Redis is
    // away it fails at once, so webhooks get 503 (the forge redelivers) and /readyz fails.
    const fastRedis = connect({ enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    const intakeQueues = new Queues(fastRedis, layout);
    closers.push(() => intakeQueues.close());
    metrics.observeQueues(() => intakeQueues.jobCounts());

    const routes: Router[] = [];
    // Refused at start (it throws) when a forge's sign-in is configured without a session secret.
    const webLogin = options.roles.web ? webLoginFromEnv(options.env) : undefined;
    let webPublicUrl = "";
    if (options.roles.web) {
      const rollouts = new RolloutStore(fastRedis);
      let guard = noSignInGuard();
      if (webLogin) {
        const sessions = new WebSessions(fastRedis);
        const viewer = new WebViewer(sessions, new RepoAccess(webLogin.providers), webLogin.sessionSecret);
        guard = repoGuard(viewer);
        const auditLog = new AuditLog(fastRedis, { retentionMs: durationMs(options.config.audit.retention) });
        const views = new EnvironmentViews(auditLog, rollouts, fastRedis);
        routes.push(
          loginRoute({
            providers: webLogin.providers,
            sessions,
            viewer,
            secret: webLogin.sessionSecret,
            publicUrl: () => webPublicUrl,
            log,
          }),
          webViewRoute({ views, viewer, guard }),
        );
      }
      routes.push(planRoute(new PlanStore(fastRedis), guard));
      routes.push(
        rolloutRoute({
          guard,
          log,
          load: async (id) => {
            const rollout = await rollouts.get(id);
            return rollout && { rollout, clusters: await rollouts.clusters(id) };
          },
        }),
      );
      const intakes: WebhookIntake[] = [];
      if (probot) intakes.push(githubIntake({ verify: (body, signature) => probot.webhooks.verify(body, signature) }));
      if (gitlab.webhookSecret || Object.keys(options.config.gitlab.projectSecrets).length > 0) {
        intakes.push(gitlabIntake({ secretFor: (project) => gitlabSecretFor(options, project) }));
      }
      for (const intake of intakes)
        routes.push(webhookRoute({ intake, queues: intakeQueues, log, metrics: metrics.webhooks(intake.forge) }));
      const admin = adminCredentialsFromEnv(options.env);
      if (admin) routes.push(queueDashboardRoute({ queues: intakeQueues.all(), credentials: admin }));
    }
    // Both roles serve HTTP: the web role its webhooks, every role /healthz, /readyz and /metrics.
    const app = createWebApp({
      isReady: () => redisIsUp(fastRedis),
      routes,
      githubConfigured,
      metrics,
      workerOnly: !options.roles.web,
      log,
    });
    const server: Server = app.listen(options.port);
    await once(server, "listening");
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;
    running.url = `http://127.0.0.1:${port}`;
    webPublicUrl = publicUrlOf(options.config, options.env, running.url).url;
    log.info(
      { port, web: options.roles.web, worker: options.roles.worker, github: githubConfigured },
      options.roles.web ? "web listening" : "health and metrics listening",
    );

    if (options.roles.worker) {
      const redis = connect();
      const clusters = new ClusterRegistry(options.config);
      closers.push(() => clusters.close());
      const github = probot ? githubForgeFactory(probot, { log }) : undefined;
      const gitlabForges =
        gitlab.url && gitlab.token
          ? gitlabForgeFactory({ url: gitlab.url, token: gitlab.token, metrics: metrics.forgeApi("gitlab") })
          : undefined;
      const forges: ForgeFactory = (repo) => {
        if (repo.forge === "github" && github) return github(repo);
        if (repo.forge === "gitlab" && gitlabForges) return gitlabForges(repo);
        return Promise.reject(permanent(`no ${repo.forge} credentials are configured`));
      };
      const queues = new Queues(redis, layout);
      closers.push(() => queues.close());
      const { url: publicUrl, fallback } = publicUrlOf(options.config, options.env, running.url);
      if (fallback && (github || gitlabForges)) {
        log.warn(
          { publicUrl },
          `no public URL: links in statuses and comments point at ${publicUrl}, which people on the forge cannot open; ` +
            "set FERRY_PUBLIC_URL or publicUrl in the server config to the address the forge's users reach Ferry at",
        );
      }
      const renderer = createRenderer({
        kustomize: options.env.FERRY_KUSTOMIZE ?? "kustomize",
        helm: options.env.FERRY_HELM ?? "helm",
        sops: { command: options.env.FERRY_SOPS ?? "sops", config: options.config.sops, env: options.env },
      });
      const store = new RolloutStore(redis);
      const auditLog = new AuditLog(redis, { retentionMs: durationMs(options.config.audit.retention) });
      const audit = new AuditTrail(auditLog, log, metrics);
      closers.push(keepAuditRetention(auditLog, log));
      // The watches' caches, which this process's plans and reconciles read while they are fresh.
      const caches = new WatchCaches(byteSize(options.config.reconcile.watchCacheLimit));
      metrics.observeWatchCaches(() => caches.held());
      // Agent clusters are released by their agents, through queues of their own (src/agent/).
      const agents = new AgentQueues(redis);
      closers.push(() => agents.close());
      const common: ReleaseDeps = {
        config: options.config,
        forges,
        clusters,
        renderer,
        redis,
        store,
        queues,
        publicUrl,
        log,
        metrics,
        audit,
        agents,
        ...(options.claimMs !== undefined ? { claimMs: options.claimMs } : {}),
        liveReader: (cluster, client) =>
          cachedLiveReader({ caches, cluster, client, onRead: (read) => metrics.liveRead(read) }),
      };
      // This process, as watch leases name their holder; plans whose watches another worker holds go there.
      const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
      const handover = new PlanHandover(redis, layout);
      const planDeps = { ...common, plans: new PlanStore(redis), publicUrl };
      const route = { redis, registry: new WatchRegistry(redis), handover, owner, log, metrics };
      const workers = startWorkers({
        connection: () => connect(),
        layout,
        concurrency: options.concurrency ?? 4,
        ...(options.claimMs !== undefined ? { claimMs: options.claimMs } : {}),
        log,
        metrics,
        deploy: (request, attempt, job) =>
          runDeployJob(request, attempt, common, {
            attempts: job.opts.attempts ?? 1,
            ...(job.opts.backoff === undefined ? {} : { backoff: job.opts.backoff }),
          }),
        rollout: (job, token) => runRolloutJob(job, token, common),
        release: (data, attempt) => runReleaseJob(data, attempt, common),
        plan: (request, attempt, job) =>
          routePlan(request, attempt, job.id ?? "", route, () => runPlanJob(request, attempt, planDeps)),
        handover: {
          queue: handoverQueueName(owner),
          prefix: handover.prefixOf(owner),
          run: ({ request, attempt }) => runHandedPlan(() => runPlanJob(request, holderAttempt(attempt), planDeps)),
        },
        reconcile: (data) => runReconcileJob(data, common),
        command: (request, attempt) =>
          runCommandJob(
            request,
            {
              forges,
              log,
              metrics,
              audit,
              store,
              wakeRollout: (id) => queues.wakeRollout(id),
              enqueuePlan: (plan) => queues.enqueuePlan(plan, `comment-${request.commentId}`),
              heal: (branch, environment) => healBranch(request.repo, branch, environment, request.user, common),
              freezes: new FreezeStore(redis),
              releaseHeld: async (ids) => {
                for (const id of ids) await queues.releaseHeldDeploy(request.repo, id);
              },
              enqueueOverride: (deploy, commentId) => queues.enqueueOverride(deploy, commentId),
              rollback: {
                store,
                reverts: new RevertStore(redis),
                audit,
                enqueuePlan: (plan) => queues.enqueuePlan(plan),
                publicUrl,
                log,
              },
            },
            attempt,
          ),
      });
      closers.push(() => workers.close());
      const driftWatch = startDriftWatch({
        redis,
        registry: route.registry,
        owner,
        client: (cluster) => clusters.client(cluster),
        reconcileSoon: (data) => queues.reconcileSoon(data),
        log,
        metrics,
        // A limit of 0 keeps no cache: the watches only tell drift.
        ...(caches.limit > 0 ? { caches } : {}),
      });
      closers.push(() => driftWatch.stop());
      // Agent clusters are watched by their agents; their changes come back through Redis.
      const agentWatchSignals = startAgentWatchSignals({
        redis,
        reconcileSoon: (data) => queues.reconcileSoon(data),
        log,
      });
      closers.push(() => agentWatchSignals.stop());
      log.info({ concurrency: options.concurrency ?? 4 }, "worker started");
    }
    return running;
  } catch (error) {
    // The failed steps are logged; the error to report is the one that stopped the start.
    await close().catch(() => undefined);
    throw error;
  }
}

/** The webhook secret of a GitLab project: its own (an environment variable the server config names), else the shared GITLAB_WEBHOOK_SECRET. */
function gitlabSecretFor(options: FerryOptions, project: string | undefined): string | undefined {
  const own = project === undefined ? undefined : options.config.gitlab.projectSecrets[project];
  return (own === undefined ? undefined : options.env[own]) ?? options.env.GITLAB_WEBHOOK_SECRET;
}

/** Closes a connection politely (QUIT), or at once when Redis does not answer within a second: a connection that waits for an unreachable Redis would hold shutdown forever. */
async function quit(redis: RedisClient): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), 1000)));
  try {
    if ((await Promise.race([redis.quit().catch(() => "failed" as const), timeout])) !== "OK") redis.disconnect();
  } finally {
    clearTimeout(timer);
  }
}
