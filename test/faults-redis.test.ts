/**
 * Redis killed (as a crash would) and restarted from its append-only file between accepting
 * webhooks and processing them: of 1,000 accepted deliveries none is lost, and all are processed
 * once a worker runs; while Redis is down the intake answers 503 and /readyz fails, and both
 * recover without help once it is back.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { stringify } from "yaml";
import { loadServerConfig } from "../src/config/server-config.js";
import { startFerry, type RunningFerry } from "../src/ferry.js";
import { createLogger } from "../src/logger.js";
import { DEPLOY_QUEUE } from "../src/queue/deploy-request.js";
import { connectRedis } from "../src/queue/redis-connection.js";
import { startRedisServer } from "../src/redis/redis-server.js";
import { GitRepo } from "./support/git-repo.js";
import { GitHubSimulator } from "./support/github-simulator.js";
import { startTestRedis } from "./support/redis.js";
import { waitUntil } from "./support/wait-until.js";
import { pushEvent, sendGitHubWebhook } from "./support/webhooks.js";

const ACCEPTED = 1000;
const SECRET = "faults-redis-secret";
const WAIT_MS = 120_000;

describe("Redis restarted between accepting webhooks and processing them", () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let sim: GitHubSimulator;
  let git: GitRepo;
  let dir: string;
  let web: RunningFerry;
  let worker: RunningFerry | undefined;
  let queueRedis: Redis;
  let queue: Queue;
  const env = () => ({
    APP_ID: String(sim.appId),
    PRIVATE_KEY: sim.privateKeyPem,
    WEBHOOK_SECRET: SECRET,
    GHE_HOST: sim.host,
    GHE_PROTOCOL: "http",
  });
  const log = createLogger({ level: "silent", pretty: false });

  before(async () => {
    redis = await startTestRedis({ appendOnly: true });
    sim = await GitHubSimulator.start();
    git = await GitRepo.create("faults-redis");
    // Pushes go to `side`, which no environment deploys: each job reads the branch and config, then ends.
    await git.writeFiles({
      ".ferry.yml": stringify({
        version: 1,
        environments: [{ name: "staging", branch: "main", path: "deploy", cluster: "test", namespace: "faults-redis" }],
      }),
      "deploy/.keep": "",
    });
    await git.commit("initial");
    await git.branch("side");
    sim.addRepo("acme/queued", git);
    dir = await mkdtemp(join(tmpdir(), "ferry-faults-redis-"));
    await writeFile(join(dir, "server.yml"), stringify({ clusters: [], policy: [] }));
    web = await startFerry({
      roles: { web: true, worker: false },
      config: await loadServerConfig(join(dir, "server.yml")),
      log,
      port: 0,
      redisUrl: redis.url,
      dataDir: dir,
      env: env(),
    });
    queueRedis = connectRedis(redis.url);
    queue = new Queue(DEPLOY_QUEUE, { connection: queueRedis });
  });
  after(async () => {
    await queue?.close();
    queueRedis?.disconnect();
    await worker?.close();
    await web?.close();
    await sim?.close();
    await git?.dispose();
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const deliver = (n: number) =>
    sendGitHubWebhook(web.url ?? "", {
      event: "push",
      payload: pushEvent({
        repo: "acme/queued",
        ref: "refs/heads/side",
        before: "0".repeat(40),
        after: `f${n.toString(16).padStart(39, "0")}`,
        pusher: "dev",
      }),
      secret: SECRET,
      deliveryId: `delivery-${n}`,
    });
  const readyz = async () => (await fetch(`${web.url}/readyz`)).status;

  test(`${ACCEPTED} accepted webhooks survive Redis being killed; intake answers 503 and /readyz fails while it is down, and recovers on its own; a worker then processes every one`, async () => {
    // Accept 1,000 deliveries, 25 at a time.
    const jobIds: string[] = [];
    for (let start = 0; start < ACCEPTED; start += 25) {
      const answers = await Promise.all(Array.from({ length: 25 }, (_, i) => deliver(start + i)));
      for (const answer of answers) {
        assert.equal(answer.status, 202, answer.body);
        jobIds.push((JSON.parse(answer.body) as { queued: string }).queued);
      }
    }
    assert.equal(new Set(jobIds).size, ACCEPTED);

    // A crash: no SHUTDOWN, no final rewrite of the append-only file.
    const port = redis.port;
    await redis.kill();
    const refused = await deliver(ACCEPTED);
    assert.deepEqual(
      [refused.status, JSON.parse(refused.body)],
      [503, { error: "queue unavailable, redeliver later" }],
    );
    assert.equal(await readyz(), 503);
    assert.equal(
      (await fetch(`${web.url}/healthz`)).status,
      200,
      "alive while Redis is away, so the pod is not restarted for it",
    );

    const restarted = await startRedisServer({ dir: redis.dir, port, appendOnly: true });
    redis = { ...restarted, dir: redis.dir, stop: async () => restarted.stop() };
    await waitUntil("/readyz did not recover", async () => (await readyz()) === 200, WAIT_MS);
    // The forge redelivers what got 503.
    const redelivered = await deliver(ACCEPTED);
    assert.equal(redelivered.status, 202, redelivered.body);
    jobIds.push((JSON.parse(redelivered.body) as { queued: string }).queued);

    await waitUntil(
      "the test's own connection did not reconnect",
      () => Promise.resolve(queueRedis.status === "ready"),
      WAIT_MS,
    );
    const missing = (await Promise.all(jobIds.map(async (id) => ((await queue.getJob(id)) ? undefined : id)))).filter(
      (id) => id !== undefined,
    );
    assert.deepEqual(missing, [], `${missing.length} of ${jobIds.length} accepted deliveries lost`);

    worker = await startFerry({
      roles: { web: false, worker: true },
      config: await loadServerConfig(join(dir, "server.yml")),
      log,
      port: 0,
      redisUrl: redis.url,
      dataDir: dir,
      env: env(),
      githubWriteSpacing: false,
      concurrency: 8,
    });
    await waitUntil(
      `the worker did not finish all ${jobIds.length} jobs`,
      async () => (await queue.getCompletedCount()) === jobIds.length,
      300_000,
    );
    assert.equal(await queue.getFailedCount(), 0);
    console.log(
      `faults-redis: ${ACCEPTED} accepted before the crash, 1 refused with 503 while down and accepted on redelivery; ${jobIds.length} of ${jobIds.length} processed after the restart`,
    );
  });
});
