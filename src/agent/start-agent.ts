import { once } from "node:events";
import { MAX_STALLS } from "../worker/start-workers.js";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { UnrecoverableError, Worker, type Job } from "bullmq";
import type { Logger } from "pino";
import type { ClusterOutcome } from "../domain/release.js";
import { isPermanent } from "../errors.js";
import type { KubeClient } from "../kube/kube-client.js";
import type { EnvironmentPlan } from "../plan/types.js";
import { planEnvironment } from "../release/plan-environment.js";
import { describeRedis, openRedis, type RedisClient, type RedisTarget } from "../queue/redis-connection.js";
import { startHeartbeat } from "./agent-heartbeat.js";
import { startAgentWatches } from "./agent-watches.js";
import { AGENT_RELEASE_QUEUE, agentKeys, cancelKey, type AgentKeys } from "./agent-keys.js";
import type {
  AgentCancel,
  AgentInventoryRequest,
  AgentJobData,
  AgentJobResult,
  AgentPlanRequest,
  AgentReconcileRequest,
  AgentReleaseRequest,
} from "./agent-release-request.js";
import { DEFAULT_RECONNECT_PACING, reconnectDelay, type ReconnectPacing } from "./reconnect-delay.js";
import { readAgentInventory, runAgentReconcile } from "./run-agent-reconcile.js";
import { runAgentRelease } from "./run-agent-release.js";

/** What `ferry agent` runs with. */
export interface AgentOptions {
  /** The cluster the agent runs in, as the server config names it. */
  cluster: string;
  /** Redis, with the agent's own user and secret. */
  redis: RedisTarget;
  /** The agent's own cluster. */
  client: KubeClient;
  log: Logger;
  /** HTTP port of /healthz and /readyz; 0 picks a free one. */
  port: number;
  /** How often the heartbeat is refreshed (keep it well under the server's `agentTimeout`). */
  heartbeatMs: number;
  /** How long a job of an agent that died stays claimed before the agent (restarted) runs it again. */
  claimMs: number;
  /** How the agent paces reconnects to Redis. */
  reconnect?: ReconnectPacing;
  /** How often the agent re-reads what central Ferry asks it to watch (`reconcile.watch`; default 5 s). */
  watchRefreshMs?: number;
}

/** A running agent. */
export interface RunningAgent {
  /** Where /healthz and /readyz are served. */
  url: string;
  /** Lets a running release finish, then stops. */
  close(): Promise<void>;
}

/** How often an agent looks whether central Ferry cancelled the release it runs. */
const CANCEL_POLL_MS = 1_000;

/**
 * Starts an agent: one BullMQ worker on its own cluster's queue of releases, plans and reconciles (prefix
 * `{ferry-agent:<cluster>}`), a heartbeat, the watches central Ferry asks for (`reconcile.watch`),
 * and /healthz and /readyz. Every connection is outbound,
 * to Redis, and reconnects with backoff and full jitter; a release an agent held when it died
 * lapses after `claimMs` and runs again once the agent is back.
 */
export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const { log } = options;
  const keys = agentKeys(options.cluster);
  const pacing = options.reconnect ?? DEFAULT_RECONNECT_PACING;
  const connections: RedisClient[] = [];
  const connect = (): RedisClient => {
    // No ready check: it sends INFO, which an agent's Redis user may not.
    const connection = openRedis(options.redis, {
      enableReadyCheck: false,
      retryStrategy: (attempt) => reconnectDelay(attempt, pacing),
    });
    connections.push(connection);
    return connection;
  };
  const redis = connect();
  redis.on("reconnecting", (ms: number) => log.warn({ inMs: ms }, "redis connection lost: reconnecting"));
  redis.on("ready", () => log.info("redis connection ready"));
  const heartbeat = startHeartbeat(redis, keys, options.heartbeatMs);
  const watches = startAgentWatches({
    redis,
    keys,
    client: options.client,
    log,
    ...(options.watchRefreshMs === undefined ? {} : { refreshMs: options.watchRefreshMs }),
  });
  let running = 0;
  const worker = new Worker<AgentJobData, AgentJobResult>(
    AGENT_RELEASE_QUEUE,
    async (job) => {
      running++;
      try {
        if (job.data.cluster !== options.cluster)
          throw new UnrecoverableError(`work for cluster ${job.data.cluster} is not this agent's (${options.cluster})`);
        if (job.name === "plan") return await runPlanJob(job as Job<AgentPlanRequest>, options);
        if (job.name === "inventory" || job.name === "reconcile") return await runReconcileJob(job, options);
        return await runJob(job as Job<AgentReleaseRequest>, keys, redis, options);
      } finally {
        running--;
      }
    },
    {
      connection: connect(),
      prefix: keys.prefix,
      // Releases of one (environment, cluster) never overlap: the central release job holds its lock
      // while its agent works, as does a reconcile's. Plans write nothing, so they need not wait behind a health wait.
      concurrency: 4,
      lockDuration: options.claimMs,
      stalledInterval: options.claimMs,
      maxStalledCount: MAX_STALLS,
      skipVersionCheck: true,
    },
  );
  worker.on("error", (error) => log.warn({ err: error }, "agent worker connection error"));
  worker.on("stalled", (jobId) => log.warn({ jobId }, "a job this agent held lapsed; it runs again"));
  const server = healthServer(() => redis.status === "ready" && worker.isRunning());
  server.listen(options.port);
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  log.info({ cluster: options.cluster, user: keys.user, redis: describeRedis(options.redis), port }, "agent started");
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      heartbeat.stop();
      await watches.stop();
      // Take no new release and let the running one finish; then close at once: a graceful close
      // waits on the worker's blocking read, which a connection that came back may never end.
      await worker.pause(true);
      while (running > 0) await new Promise((resolve) => setTimeout(resolve, 100));
      await worker.close(true);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const connection of connections) connection.disconnect();
      options.client.close();
    },
  };
}

/** A plan of one environment on the agent's cluster: compared and dry-run, nothing written. */
async function runPlanJob(job: Job<AgentPlanRequest>, options: AgentOptions): Promise<EnvironmentPlan> {
  const r = job.data;
  const log = options.log.child({ jobId: job.id, repository: r.repository, sha: r.sha, environment: r.env.name });
  try {
    const plan = await planEnvironment({
      client: options.client,
      repository: r.repository,
      env: r.env,
      grant: r.grant,
      rendered: r.rendered,
      sha: r.sha,
    });
    log.info({ counts: plan.counts }, "planned");
    return plan;
  } catch (error) {
    // Transient errors are retried (by BullMQ, then by the central plan job); a permanent one is the plan's error.
    if (!isPermanent(error)) throw error;
    return {
      environment: r.env.name,
      cluster: r.cluster,
      sha: r.sha,
      objects: [],
      counts: { create: 0, update: 0, delete: 0, unchanged: 0 },
      error: (error as Error).message,
    };
  }
}

/**
 * A reconcile's step on the agent's cluster: the inventory read, or the drift check (and heal). A
 * transient error is retried by BullMQ; a permanent one fails the job at once, and central Ferry's
 * reconcile reports it.
 */
async function runReconcileJob(job: Job<AgentJobData>, options: AgentOptions): Promise<AgentJobResult> {
  const log = options.log.child({ jobId: job.id, repository: job.data.repository });
  try {
    if (job.name === "inventory") return await readAgentInventory(options.client, job.data as AgentInventoryRequest);
    const request = job.data as AgentReconcileRequest;
    const found = await runAgentReconcile(options.client, request);
    log.info(
      {
        environment: request.env.name,
        sha: request.sha,
        objects: found.objects.length,
        healed: found.healed?.restored.length,
        healError: found.healError,
      },
      "reconciled",
    );
    return found;
  } catch (error) {
    if (isPermanent(error)) throw new UnrecoverableError((error as Error).message);
    throw error;
  }
}

/** One release of the agent's queue: unless central Ferry cancelled it, release. */
async function runJob(
  job: Job<AgentReleaseRequest>,
  keys: AgentKeys,
  redis: RedisClient,
  options: AgentOptions,
): Promise<ClusterOutcome> {
  const request = job.data;
  const log = options.log.child({
    jobId: job.id,
    rollout: request.rolloutId,
    repository: request.repository,
    sha: request.sha,
    environment: request.env.name,
    ...(request.rollbackOf === undefined ? {} : { rollbackOf: request.rollbackOf }),
  });
  const jobId = job.id ?? "";
  const cancel = await readCancel(redis, keys, jobId);
  if (cancel?.kind === "abandoned") {
    log.warn({ reason: cancel.reason }, "release cancelled by Ferry before it started: the cluster is left as it is");
    return { kind: "skipped", sha: request.sha, reason: cancel.reason };
  }
  const watch = watchCancel(redis, keys, jobId, cancel);
  const attempt = { number: job.attemptsMade + 1, of: job.opts.attempts ?? 1 };
  let reported = "";
  try {
    const outcome = await runAgentRelease({
      request,
      client: options.client,
      progress: async (description) => {
        if (description === reported) return;
        reported = description;
        await job.updateProgress({ description });
      },
      signal: watch.signal,
      cancelled: () => watch.reason(),
      log,
    });
    log.info({ outcome: outcome.kind }, "release finished");
    return outcome;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (!isPermanent(error) && attempt.number < attempt.of) {
      log.warn({ err: error, attempt: attempt.number, of: attempt.of }, "release failed, will retry");
      throw error;
    }
    log.warn({ err: error }, "release failed");
    const spent = isPermanent(error) ? "" : `gave up after ${attempt.of} attempts: `;
    return { kind: "failed", sha: request.sha, error: `${spent}${message}` };
  } finally {
    watch.stop();
  }
}

async function readCancel(redis: RedisClient, keys: AgentKeys, jobId: string): Promise<AgentCancel | undefined> {
  const text = await redis.get(cancelKey(keys, jobId));
  return text === null ? undefined : (JSON.parse(text) as AgentCancel);
}

/** Looks every second whether central Ferry cancelled the job; the signal fires once it did. */
function watchCancel(
  redis: RedisClient,
  keys: AgentKeys,
  jobId: string,
  already: AgentCancel | undefined,
): { signal: AbortSignal; reason(): AgentCancel | undefined; stop(): void } {
  const controller = new AbortController();
  let reason = already;
  if (reason) controller.abort();
  const timer = setInterval(() => {
    if (controller.signal.aborted) return;
    readCancel(redis, keys, jobId).then(
      (found) => {
        if (!found) return;
        reason = found;
        controller.abort();
      },
      () => undefined,
    );
  }, CANCEL_POLL_MS);
  timer.unref();
  return { signal: controller.signal, reason: () => reason, stop: () => clearInterval(timer) };
}

/** /healthz (the process runs) and /readyz (connected to Redis, taking work). */
function healthServer(ready: () => boolean): Server {
  return createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0];
    const [status, text] =
      path === "/healthz"
        ? [200, "ok"]
        : path !== "/readyz"
          ? [404, "not found"]
          : ready()
            ? [200, "ready"]
            : [503, "not ready: no Redis connection"];
    res.writeHead(status, { "content-type": "text/plain" }).end(`${text}\n`);
  });
}
