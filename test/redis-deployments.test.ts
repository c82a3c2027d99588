import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { serverConfigSchema } from "../src/config/server-config.js";
import { startFerry } from "../src/ferry.js";
import { createLogger } from "../src/logger.js";
import { withLock } from "../src/queue/environment-lock.js";
import { Queues } from "../src/queue/queues.js";
import { openRedis, queueLayout, redisTargetFromEnv, type RedisTarget } from "../src/queue/redis-connection.js";
import type { DeployRequest } from "../src/domain/requests.js";
import { startWorkers } from "../src/worker/start-workers.js";
import { parsePrometheusText, sampleValue } from "./support/prometheus-text.js";
import { startTestRedisCluster, startTestSentinel } from "./support/redis.js";
import { waitUntil } from "./support/wait-until.js";

const request = (sha: string): DeployRequest => ({
  repo: { forge: "github", fullName: "acme/shop" },
  branch: "main",
  sha,
  actor: "dev",
  deliveryId: `d-${sha}`,
});

/**
 * Queues a deploy on `target` and has a worker run it, with Ferry's own Queues and startWorkers (the
 * key layout included), and takes an environment lock there: what the worker role does with Redis.
 */
async function queueAndRun(target: RedisTarget): Promise<void> {
  const layout = queueLayout(target);
  const connections = [openRedis(target), openRedis(target)];
  const ran: string[] = [];
  const workers = startWorkers({
    connection: () => {
      const c = openRedis(target);
      connections.push(c);
      return c;
    },
    layout,
    concurrency: 1,
    log: createLogger({ level: "silent" }),
    deploy: (r) => {
      ran.push(r.sha);
      return Promise.resolve([]);
    },
    plan: () => Promise.resolve([]),
    command: () => Promise.resolve(undefined),
    rollout: () => Promise.resolve("succeeded" as const),
    release: () => Promise.reject(new Error("no releases in this test")),
    reconcile: () => Promise.reject(new Error("no reconciles in this test")),
  });
  const queues = new Queues(connections[0]!, layout);
  try {
    await queues.enqueueDeploy(request("a".repeat(40)));
    await queues.enqueueDeploy(request("a".repeat(40)));
    await queues.enqueueDeploy(request("b".repeat(40)));
    await waitUntil(
      () => `two jobs ran (ran: ${ran.join(", ")})`,
      () => ran.length >= 2,
      20_000,
      50,
    );
    assert.deepEqual(ran.sort(), ["a".repeat(40), "b".repeat(40)], "each job once");
    const counts = await queues.jobCounts();
    assert.equal(counts["ferry-deploy"]?.waiting, 0);
    assert.equal(await withLock(connections[1]!, "ferry:lock:release:test", () => Promise.resolve("locked")), "locked");
  } finally {
    await workers.close();
    await queues.close();
    for (const c of connections) c.disconnect();
  }
}

/** Starts Ferry (web and worker) on `env`'s Redis and checks readiness and the queue-depth metric. */
async function ferryOn(env: NodeJS.ProcessEnv): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), "ferry-redis-deployments-"));
  const ferry = await startFerry({
    roles: { web: true, worker: true },
    config: serverConfigSchema.parse({}),
    log: createLogger({ level: "silent" }),
    port: 0,
    redis: redisTargetFromEnv(env),
    dataDir,
    env: {},
    githubWriteSpacing: false,
  });
  try {
    let ready = 0;
    await waitUntil(
      () => `/readyz did not answer 200 (last ${ready})`,
      async () => (ready = (await fetch(`${ferry.url}/readyz`)).status) === 200,
      10_000,
    );
    const samples = parsePrometheusText(await (await fetch(`${ferry.url}/metrics`)).text());
    assert.equal(sampleValue(samples, "ferry_queue_jobs", { queue: "ferry-deploy", state: "waiting" }), 0);
  } finally {
    await ferry.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

describe("Redis through Sentinel", () => {
  test("REDIS_SENTINELS finds the primary: jobs queue and run, locks hold, Ferry is ready", async () => {
    const sentinel = await startTestSentinel("ferry");
    try {
      const env = { REDIS_SENTINELS: `127.0.0.1:${sentinel.sentinelPort}`, REDIS_SENTINEL_NAME: "ferry" };
      await queueAndRun(redisTargetFromEnv(env)!);
      await ferryOn(env);
    } finally {
      await sentinel.stop();
    }
  });
});

describe("Redis Cluster", () => {
  test("REDIS_CLUSTER_NODES: queues in hash-tagged groups run jobs across a three-node cluster, and Ferry is ready", async () => {
    const cluster = await startTestRedisCluster();
    try {
      const env = { REDIS_CLUSTER_NODES: cluster.ports.map((p) => `127.0.0.1:${p}`).join(",") };
      await queueAndRun(redisTargetFromEnv(env)!);
      await ferryOn(env);
    } finally {
      await cluster.stop();
    }
  });
});
