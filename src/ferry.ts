import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { createProbot } from "probot";
import type { ServerConfig } from "./config/server-config.js";
import { permanent } from "./errors.js";
import { ferryOctokit } from "./forge/github/ferry-octokit.js";
import { githubForgeFactory } from "./forge/github/github-forge-factory.js";
import { gitlabForgeFactory } from "./forge/gitlab/gitlab-forge-factory.js";
import type { ForgeFactory } from "./forge/types.js";
import { runCommandJob } from "./jobs/command-job.js";
import { runDeployJob } from "./jobs/deploy-job.js";
import { runPlanJob } from "./jobs/plan-job.js";
import { PlanStore } from "./plan/plan-store.js";
import { Queues } from "./queue/queues.js";
import { planRoute } from "./web/plan-route.js";
import { startWorkers } from "./worker/start-workers.js";
import { ClusterRegistry } from "./kube/cluster-registry.js";
import { createRenderer } from "./render/select-renderer.js";
import { connectRedis, redisIsUp } from "./queue/redis-connection.js";
import { startRedisServer, type RedisServer } from "./redis/redis-server.js";
import { githubWebhookRoute } from "./web/github-webhook-route.js";
import { gitlabWebhookRoute } from "./web/gitlab-webhook-route.js";
import { createWebApp } from "./web/web-app.js";

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
  /** HTTP port for the web role; 0 picks a free one. */
  port: number;
  /** Redis to use; without it Ferry starts an embedded `redis-server` with data under `dataDir`. */
  redisUrl?: string;
  /** Where the embedded Redis keeps its append-only file. */
  dataDir: string;
  /** Process environment for Probot's settings (APP_ID, PRIVATE_KEY, WEBHOOK_SECRET, GHE_HOST...). */
  env: NodeJS.ProcessEnv;
  /** Space GitHub writes 1 s apart per installation, as GitHub asks of integrators (default on; tests turn it off). */
  githubWriteSpacing?: boolean;
  /** How many jobs one worker runs at once. */
  concurrency?: number;
}

/** A running Ferry. */
export interface RunningFerry {
  /** Base URL of the web role, when it runs. */
  url?: string;
  /** The Redis URL in use (embedded or given). */
  redisUrl: string;
  /** Stops taking work, lets running jobs finish, closes Redis connections and the embedded Redis. */
  close(): Promise<void>;
}

/** True when Probot has what it needs to act as the GitHub App. */
export function githubAppConfigured(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.APP_ID && (env.PRIVATE_KEY || env.PRIVATE_KEY_PATH) && env.WEBHOOK_SECRET);
}

/** The composition root: starts Redis (if embedded), the web role and the worker role. */
export async function startFerry(options: FerryOptions): Promise<RunningFerry> {
  const { log } = options;
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch((error: unknown) => log.error({ err: error }, "shutdown step failed"));
  };
  try {
    let redisUrl = options.redisUrl;
    if (!redisUrl) {
      const embedded: RedisServer = await startRedisServer({ dir: join(options.dataDir, "redis") });
      closers.push(() => embedded.stop());
      redisUrl = embedded.url;
      log.info({ redis: redisUrl, dir: join(options.dataDir, "redis") }, "started embedded redis-server (set REDIS_URL to use your own)");
    }
    const githubConfigured = githubAppConfigured(options.env);
    const gitlab = { url: options.env.GITLAB_URL, token: options.env.GITLAB_TOKEN, webhookSecret: options.env.GITLAB_WEBHOOK_SECRET };
    // Probot is the GitHub App: it verifies webhook signatures and authenticates as installations.
    const probot = githubConfigured
      ? createProbot({ env: options.env, overrides: { log: log.child({ component: "probot" }), Octokit: ferryOctokit({ writeSpacing: options.githubWriteSpacing ?? true }) } })
      : undefined;
    const running: RunningFerry = { redisUrl, close };

    if (options.roles.web) {
      // The intake fails fast when Redis is away (no offline queue), so the forge sees 503 and redelivers.
      const intakeRedis = connectRedis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
      closers.push(() => quit(intakeRedis));
      const queues = new Queues(intakeRedis);
      closers.push(() => queues.close());
      const routes = [planRoute(new PlanStore(intakeRedis))];
      if (probot) routes.push(githubWebhookRoute({ verify: (body, signature) => probot.webhooks.verify(body, signature), queues, log }));
      if (gitlab.webhookSecret || Object.keys(options.config.gitlab.projectSecrets).length > 0) {
        routes.push(gitlabWebhookRoute({ secretFor: (project) => gitlabSecretFor(options, project), queues, log }));
      }
      const app = createWebApp({ isReady: () => redisIsUp(intakeRedis), routes, githubConfigured, log });
      const server: Server = app.listen(options.port);
      await once(server, "listening");
      closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
      const { port } = server.address() as AddressInfo;
      running.url = `http://127.0.0.1:${port}`;
      log.info({ port, github: githubConfigured }, "web listening");
    }

    if (options.roles.worker) {
      const redis = connectRedis(redisUrl);
      closers.push(() => quit(redis));
      const clusters = new ClusterRegistry(options.config);
      closers.push(() => clusters.close());
      const github = probot ? githubForgeFactory(probot) : undefined;
      const gitlabForges = gitlab.url && gitlab.token ? gitlabForgeFactory({ url: gitlab.url, token: gitlab.token }) : undefined;
      const forges: ForgeFactory = (repo) => {
        if (repo.forge === "github" && github) return github(repo);
        if (repo.forge === "gitlab" && gitlabForges) return gitlabForges(repo);
        return Promise.reject(permanent(`no ${repo.forge} credentials are configured`));
      };
      const queues = new Queues(redis);
      closers.push(() => queues.close());
      const publicUrl = options.config.publicUrl ?? options.env.FERRY_PUBLIC_URL ?? running.url ?? `http://localhost:${options.port}`;
      const common = { config: options.config, forges, clusters, renderer: createRenderer({ kustomize: options.env.FERRY_KUSTOMIZE ?? "kustomize", helm: options.env.FERRY_HELM ?? "helm" }), redis, log };
      const workers = startWorkers({
        connection: () => {
          const connection = connectRedis(redisUrl);
          closers.push(() => quit(connection));
          return connection;
        },
        concurrency: options.concurrency ?? 4,
        log,
        deploy: (request, attempt) => runDeployJob(request, attempt, common),
        plan: (request, attempt) => runPlanJob(request, attempt, { ...common, plans: new PlanStore(redis), publicUrl }),
        command: (request) => runCommandJob(request, { forges, log, enqueuePlan: (plan) => queues.enqueuePlan(plan, `comment-${request.commentId}`) }),
      });
      closers.push(() => workers.close());
      log.info({ concurrency: options.concurrency ?? 4 }, "worker started");
    }
    return running;
  } catch (error) {
    await close();
    throw error;
  }
}

/** The webhook secret of a GitLab project: its own (an environment variable the server config names), else the shared GITLAB_WEBHOOK_SECRET. */
function gitlabSecretFor(options: FerryOptions, project: string | undefined): string | undefined {
  const own = project === undefined ? undefined : options.config.gitlab.projectSecrets[project];
  return (own === undefined ? undefined : options.env[own]) ?? options.env.GITLAB_WEBHOOK_SECRET;
}

async function quit(redis: Redis): Promise<void> {
  await redis.quit().catch(() => redis.disconnect());
}
