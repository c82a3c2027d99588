import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Queue, UnrecoverableError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { createProbot } from "probot";
import type { ServerConfig } from "./config/server-config.js";
import { isPermanent, permanent } from "./errors.js";
import { ferryOctokit } from "./forge/github/ferry-octokit.js";
import { githubForgeFactory } from "./forge/github/github-forge-factory.js";
import type { ForgeFactory } from "./forge/types.js";
import { runDeployJob } from "./jobs/deploy-job.js";
import { ClusterRegistry } from "./kube/cluster-registry.js";
import { PlainRenderer } from "./render/plain-renderer.js";
import { DEPLOY_QUEUE, deployJobId, type DeployRequest } from "./queue/deploy-request.js";
import { connectRedis, redisIsUp } from "./queue/redis-connection.js";
import { startRedisServer, type RedisServer } from "./redis/redis-server.js";
import { githubWebhookRoute } from "./web/github-webhook-route.js";
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
    // Probot is the GitHub App: it verifies webhook signatures and authenticates as installations.
    const probot = githubConfigured
      ? createProbot({ env: options.env, overrides: { log: log.child({ component: "probot" }), Octokit: ferryOctokit({ writeSpacing: options.githubWriteSpacing ?? true }) } })
      : undefined;
    const running: RunningFerry = { redisUrl, close };

    if (options.roles.web) {
      // The intake fails fast when Redis is away (no offline queue), so the forge sees 503 and redelivers.
      const intakeRedis = connectRedis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
      closers.push(() => quit(intakeRedis));
      const queue = new Queue<DeployRequest>(DEPLOY_QUEUE, { connection: intakeRedis });
      queue.on("error", () => undefined);
      closers.push(() => queue.close());
      const routes = probot
        ? [
            githubWebhookRoute({
              verify: (body, signature) => probot.webhooks.verify(body, signature),
              enqueueDeploy: async (request) => {
                const jobId = deployJobId(request);
                await queue.add("deploy", request, {
                  jobId,
                  attempts: 8,
                  backoff: { type: "exponential", delay: 2000 },
                  removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
                  removeOnFail: { age: 30 * 24 * 3600 },
                });
                return jobId;
              },
              log,
            }),
          ]
        : [];
      const app = createWebApp({ isReady: () => redisIsUp(intakeRedis), routes, githubConfigured, log });
      const server: Server = app.listen(options.port);
      await once(server, "listening");
      closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
      const { port } = server.address() as AddressInfo;
      running.url = `http://127.0.0.1:${port}`;
      log.info({ port, github: githubConfigured }, "web listening");
    }

    if (options.roles.worker) {
      const workerRedis = connectRedis(redisUrl);
      const lockRedis = connectRedis(redisUrl);
      closers.push(() => quit(workerRedis), () => quit(lockRedis));
      const clusters = new ClusterRegistry(options.config);
      closers.push(() => clusters.close());
      const github = probot ? githubForgeFactory(probot) : undefined;
      const forges: ForgeFactory = (repo) => {
        if (repo.forge === "github" && github) return github(repo);
        return Promise.reject(permanent(`no ${repo.forge} credentials are configured`));
      };
      const deps = { config: options.config, forges, clusters, renderer: new PlainRenderer(), redis: lockRedis, log };
      const worker = new Worker<DeployRequest>(
        DEPLOY_QUEUE,
        async (job) => {
          try {
            return await runDeployJob(job.data, { number: job.attemptsMade + 1, of: job.opts.attempts ?? 1 }, deps);
          } catch (error) {
            // Permanent errors fail the job at once; anything else is retried with backoff.
            if (isPermanent(error)) throw new UnrecoverableError((error as Error).message);
            throw error;
          }
        },
        {
        connection: workerRedis,
        concurrency: options.concurrency ?? 4,
      });
      worker.on("error", (error) => log.warn({ err: error }, "worker connection error"));
      worker.on("failed", (job, error) => log.warn({ jobId: job?.id, err: error }, "deploy job failed"));
      closers.push(() => worker.close());
      log.info({ concurrency: options.concurrency ?? 4 }, "worker started");
    }
    return running;
  } catch (error) {
    await close();
    throw error;
  }
}

async function quit(redis: Redis): Promise<void> {
  await redis.quit().catch(() => redis.disconnect());
}
