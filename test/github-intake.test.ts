import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { sign } from "@octokit/webhooks-methods";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import request from "supertest";
import { serverConfigSchema } from "../src/config/server-config.js";
import { startFerry, type RunningFerry } from "../src/ferry.js";
import { createLogger } from "../src/logger.js";
import { DEPLOY_QUEUE } from "../src/queue/deploy-request.js";
import { connectRedis } from "../src/queue/redis-connection.js";
import { GitHubSimulator } from "./support/github-simulator.js";
import { startTestRedis } from "./support/redis.js";
import { waitUntil } from "./support/wait-until.js";
import { githubPayload, mergedPullRequest } from "./support/webhooks.js";

const SECRET = "intake-secret";

describe("GitHub webhook intake", () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let sim: GitHubSimulator;
  let ferry: RunningFerry;
  let dir: string;
  let queue: Queue;
  let queueRedis: Redis;

  before(async () => {
    redis = await startTestRedis();
    sim = await GitHubSimulator.start();
    dir = await mkdtemp(join(tmpdir(), "ferry-intake-"));
    ferry = await startFerry({
      roles: { web: true, worker: false },
      config: serverConfigSchema.parse({}),
      log: createLogger({ level: "silent", pretty: false }),
      port: 0,
      redisUrl: redis.url,
      dataDir: dir,
      env: {
        APP_ID: String(sim.appId),
        PRIVATE_KEY: sim.privateKeyPem,
        WEBHOOK_SECRET: SECRET,
        GHE_HOST: sim.host,
        GHE_PROTOCOL: "http",
      },
    });
    queueRedis = connectRedis(redis.url);
    queue = new Queue(DEPLOY_QUEUE, { connection: queueRedis });
  });
  after(async () => {
    await queue.close();
    queueRedis.disconnect();
    await ferry.close();
    await sim.close();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const merged = mergedPullRequest({
    repo: "acme/shop",
    number: 7,
    base: "main",
    headSha: "a".repeat(40),
    mergeCommitSha: "b".repeat(40),
    mergedBy: "dev",
  });
  const queued = async () => (await queue.getJobs(["waiting", "active", "completed", "failed", "delayed"])).length;
  const post = async (body: string, headers: Record<string, string>) => {
    let req = request(ferry.url ?? "").post("/api/github/webhooks");
    for (const [k, v] of Object.entries(headers)) req = req.set(k, v);
    return req.send(body);
  };
  const signed = async (event: string, body: string, delivery = "d-1") => ({
    "content-type": "application/json",
    "x-github-event": event,
    "x-github-delivery": delivery,
    "x-hub-signature-256": await sign(SECRET, body),
  });

  test("a signed merged pull request is queued and answered 202; the same delivery again queues nothing new", async () => {
    const body = JSON.stringify(merged);
    const first = await post(body, await signed("pull_request", body));
    assert.equal(first.status, 202);
    assert.match((first.body as { queued: string }).queued, /^deploy-[0-9a-f]{32}$/);
    const again = await post(body, await signed("pull_request", body));
    assert.deepEqual(again.body, first.body);
    assert.equal(await queued(), 1);
    await queue.obliterate({ force: true });
  });

  const cases: Array<[string, () => Promise<{ body: string; headers: Record<string, string> }>, number, RegExp]> = [
    [
      "a bad signature",
      async () => ({ body: JSON.stringify(merged), headers: { ...(await signed("pull_request", "{}")) } }),
      401,
      /signature does not match/,
    ],
    [
      "a missing signature",
      async () => {
        const { ["x-hub-signature-256"]: _, ...headers } = await signed("pull_request", "{}");
        return { body: JSON.stringify(merged), headers };
      },
      401,
      /missing X-Hub-Signature-256/,
    ],
    [
      "a valid signature over a different body",
      async () => ({
        body: JSON.stringify({ ...merged, number: 8 }),
        headers: await signed("pull_request", JSON.stringify(merged)),
      }),
      401,
      /signature does not match/,
    ],
    [
      "malformed JSON",
      async () => ({ body: "{not json", headers: await signed("pull_request", "{not json") }),
      400,
      /not valid JSON/,
    ],
    [
      "a payload missing fields",
      async () => {
        const body = JSON.stringify({ action: "closed", repository: { full_name: "acme/shop" } });
        return { body, headers: await signed("pull_request", body) };
      },
      400,
      /pull_request\.closed payload: pull_request/,
    ],
    [
      "a missing event header",
      async () => {
        const { ["x-github-event"]: _, ...headers } = await signed("pull_request", "{}");
        return { body: "{}", headers };
      },
      400,
      /missing headers: x-github-event/,
    ],
    [
      "a wrong content type",
      async () => ({
        body: "a=b",
        headers: { ...(await signed("pull_request", "a=b")), "content-type": "application/x-www-form-urlencoded" },
      }),
      415,
      /application\/json/,
    ],
  ];
  for (const [name, make, status, message] of cases) {
    test(`${name} is answered ${status} and queues nothing`, async () => {
      const { body, headers } = await make();
      const res = await post(body, headers);
      assert.equal(res.status, status);
      assert.match((res.body as { error: string }).error, message);
      assert.equal(await queued(), 0);
    });
  }

  test("an event Ferry does not use is acknowledged and dropped", async () => {
    const body = JSON.stringify(githubPayload("issues", "opened"));
    const res = await post(body, await signed("issues", body));
    assert.equal(res.status, 202);
    assert.equal((res.body as { ignored: string }).ignored, "Ferry does not act on issues.opened");
    const closed = JSON.stringify(githubPayload("pull_request", "closed"));
    assert.match(
      ((await post(closed, await signed("pull_request", closed))).body as { ignored: string }).ignored,
      /closed without merging/,
    );
    assert.equal(await queued(), 0);
  });

  test("a body over 25 MB is refused with 413", async () => {
    const body = JSON.stringify({ pad: "x".repeat(26 * 1024 * 1024) });
    const res = await post(body, await signed("push", body));
    assert.equal(res.status, 413);
    assert.equal(await queued(), 0);
  });

  test("while Redis is down intake answers 503 and readiness fails, and both recover", async () => {
    const port = redis.port;
    await redis.kill();
    const body = JSON.stringify(merged);
    const res = await post(body, await signed("pull_request", body, "d-down"));
    assert.equal(res.status, 503);
    assert.equal((await request(ferry.url ?? "").get("/readyz")).status, 503);
    assert.equal((await request(ferry.url ?? "").get("/healthz")).status, 200);
    const { startRedisServer } = await import("../src/redis/redis-server.js");
    const restarted = await startRedisServer({ dir: redis.dir, port, appendOnly: false });
    redis = { ...restarted, dir: redis.dir, stop: async () => restarted.stop() };
    let ready = 503;
    await waitUntil(
      () => `/readyz did not answer 200 (last ${ready})`,
      async () => (ready = (await request(ferry.url ?? "").get("/readyz")).status) === 200,
      10_000,
    );
    assert.equal((await post(body, await signed("pull_request", body, "d-up"))).status, 202);
  });
});
