import assert from "node:assert/strict";
import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import request from "supertest";
import { gitlabIntake } from "../src/forge/gitlab/gitlab-intake.js";
import { createLogger } from "../src/logger.js";
import { DEPLOY_QUEUE } from "../src/queue/deploy-request.js";
import { COMMAND_QUEUE, PLAN_QUEUE } from "../src/queue/plan-request.js";
import { Queues } from "../src/queue/queues.js";
import { connectRedis, redisIsUp } from "../src/queue/redis-connection.js";
import { startRedisServer } from "../src/redis/redis-server.js";
import { createWebApp } from "../src/web/web-app.js";
import { webhookRoute } from "../src/web/webhook-route.js";
import {
  gitlabFixture,
  gitlabFixtureFiles,
  gitlabMergeRequestEvent,
  gitlabNoteEvent,
  gitlabPushEvent,
  sendGitLabWebhook,
  type GitLabEventName,
} from "./support/gitlab-webhooks.js";
import { startTestRedis } from "./support/redis.js";
import { waitUntil } from "./support/wait-until.js";

const SHARED_SECRET = "shared-secret";
const SHOP_SECRET = "shop-only-secret";
const shop = { id: 11, path: "acme/shop" };
const billing = { id: 12, path: "acme/billing" };
const headSha = "a".repeat(40);
const mergeSha = "b".repeat(40);

/**
 * GitLab's webhook route mounted on Ferry's web app, in front of real BullMQ queues on a real
 * redis-server, as `src/ferry.ts` mounts it: per-project secrets, 401/415/400/202/503 answers and
 * job ids that make duplicate deliveries harmless.
 */
describe("GitLab webhook intake", () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let intakeRedis: Redis;
  let queues: Queues;
  let server: Server;
  let url: string;
  let queueRedis: Redis;
  let counted: Queue[];

  before(async () => {
    redis = await startTestRedis();
    intakeRedis = connectRedis(redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    queues = new Queues(intakeRedis);
    const log = createLogger({ level: "silent", pretty: false });
    const secrets = new Map([[shop.path, SHOP_SECRET]]);
    const intake = gitlabIntake({
      secretFor: (project) => (project === undefined ? SHARED_SECRET : (secrets.get(project) ?? SHARED_SECRET)),
      botUsername: "ferry-bot",
    });
    const route = webhookRoute({ intake, queues, log });
    const app = createWebApp({ isReady: () => redisIsUp(intakeRedis), routes: [route], githubConfigured: false, log });
    server = app.listen(0, "127.0.0.1");
    await once(server, "listening");
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    queueRedis = connectRedis(redis.url);
    counted = [DEPLOY_QUEUE, PLAN_QUEUE, COMMAND_QUEUE].map((name) => new Queue(name, { connection: queueRedis }));
  });
  after(async () => {
    await Promise.all(counted.map((q) => q.close()));
    queueRedis.disconnect();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await queues.close();
    intakeRedis.disconnect();
    await redis.stop();
  });

  /** Jobs in each queue: deploy, plan, command. */
  const queued = async () =>
    Promise.all(
      counted.map(async (q) => (await q.getJobs(["waiting", "active", "completed", "failed", "delayed"])).length),
    );
  const clear = async () => {
    for (const q of counted) await q.obliterate({ force: true });
  };
  const send = (event: GitLabEventName, payload: unknown, token: string | undefined, uuid?: string) =>
    sendGitLabWebhook(url, { event, payload, token, ...(uuid === undefined ? {} : { uuid }) });
  const merged = gitlabMergeRequestEvent({
    project: shop,
    iid: 7,
    action: "merge",
    sourceBranch: "feature",
    targetBranch: "main",
    lastCommitSha: headSha,
    mergeCommitSha: mergeSha,
    user: "dev",
  });

  test("a merged merge request is queued once: redelivered, and seen again through the push", async () => {
    const first = await send("Merge Request Hook", merged, SHOP_SECRET, "uuid-1");
    assert.equal(first.status, 202);
    const { queued: jobId } = JSON.parse(first.body) as { queued: string };
    assert.match(jobId, /^deploy-[0-9a-f]{32}$/);
    assert.deepEqual(await send("Merge Request Hook", merged, SHOP_SECRET, "uuid-1"), first);
    const push = gitlabPushEvent({ project: shop, ref: "main", before: headSha, after: mergeSha, user: "dev" });
    assert.deepEqual(JSON.parse((await send("Push Hook", push, SHOP_SECRET, "uuid-2")).body), { queued: jobId });
    assert.deepEqual(await queued(), [1, 0, 0]);
    await clear();
  });

  test("an opened merge request queues one plan however often it is delivered, and a /ferry plan note a command", async () => {
    const opened = gitlabMergeRequestEvent({
      project: billing,
      iid: 3,
      action: "open",
      sourceBranch: "feature",
      targetBranch: "main",
      lastCommitSha: headSha,
      user: "dev",
    });
    const first = await send("Merge Request Hook", opened, SHARED_SECRET);
    assert.match((JSON.parse(first.body) as { queued: string }).queued, /^plan-[0-9a-f]{32}$/);
    assert.equal((await send("Merge Request Hook", opened, SHARED_SECRET)).body, first.body);
    const pushed = gitlabMergeRequestEvent({
      project: billing,
      iid: 3,
      action: "update",
      sourceBranch: "feature",
      targetBranch: "main",
      lastCommitSha: mergeSha,
      oldrev: headSha,
      user: "dev",
    });
    assert.equal((await send("Merge Request Hook", pushed, SHARED_SECRET)).status, 202);
    const note = gitlabNoteEvent({
      project: billing,
      iid: 3,
      body: "/ferry plan staging",
      user: "reviewer",
      noteId: 501,
    });
    assert.match(
      (JSON.parse((await send("Note Hook", note, SHARED_SECRET)).body) as { queued: string }).queued,
      /^command-[0-9a-f]{32}$/,
    );
    assert.equal((await send("Note Hook", note, SHARED_SECRET)).status, 202);
    assert.deepEqual(await queued(), [0, 2, 1]);
    await clear();
  });

  test("each project's own secret is required where one is set; the shared secret serves the others", async () => {
    assert.equal((await send("Merge Request Hook", merged, SHARED_SECRET)).status, 401);
    const elsewhere = gitlabPushEvent({ project: billing, ref: "main", before: headSha, after: mergeSha, user: "dev" });
    assert.equal((await send("Push Hook", elsewhere, SHOP_SECRET)).status, 401);
    assert.equal((await send("Push Hook", elsewhere, SHARED_SECRET)).status, 202);
    assert.deepEqual(await queued(), [1, 0, 0]);
    await clear();
  });

  const post = (body: string, headers: Record<string, string>) => {
    let req = request(url).post("/api/gitlab/webhooks");
    for (const [k, v] of Object.entries(headers)) req = req.set(k, v);
    return req.send(body);
  };
  const headers = (event: string, token = SHOP_SECRET) => ({
    "content-type": "application/json",
    "x-gitlab-event": event,
    "x-gitlab-token": token,
    "x-gitlab-event-uuid": "u-1",
  });
  const cases: Array<[string, () => { body: string; headers: Record<string, string> }, number, RegExp]> = [
    [
      "a wrong token",
      () => ({ body: JSON.stringify(merged), headers: headers("Merge Request Hook", "guess") }),
      401,
      /does not match/,
    ],
    [
      "a token that is a prefix of the secret",
      () => ({ body: JSON.stringify(merged), headers: headers("Merge Request Hook", SHOP_SECRET.slice(0, -1)) }),
      401,
      /does not match/,
    ],
    [
      "a missing token",
      () => {
        const { ["x-gitlab-token"]: _, ...rest } = headers("Merge Request Hook");
        return { body: JSON.stringify(merged), headers: rest };
      },
      401,
      /missing X-Gitlab-Token/,
    ],
    [
      "malformed JSON",
      () => ({ body: "{not json", headers: headers("Merge Request Hook", SHARED_SECRET) }),
      400,
      /not valid JSON/,
    ],
    [
      "a payload missing fields",
      () => {
        const body = JSON.stringify({
          object_kind: "merge_request",
          project: { id: shop.id, path_with_namespace: shop.path },
          object_attributes: { action: "merge" },
        });
        return { body, headers: headers("Merge Request Hook") };
      },
      400,
      /Merge Request Hook\.merge payload: user/,
    ],
    [
      "a missing event header",
      () => {
        const { ["x-gitlab-event"]: _, ...rest } = headers("Merge Request Hook");
        return { body: JSON.stringify(merged), headers: rest };
      },
      400,
      /missing headers: x-gitlab-event/,
    ],
    [
      "a wrong content type",
      () => ({
        body: JSON.stringify(merged),
        headers: { ...headers("Merge Request Hook"), "content-type": "application/x-www-form-urlencoded" },
      }),
      415,
      /application\/json/,
    ],
  ];
  for (const [name, make, status, message] of cases) {
    test(`${name} is answered ${status} and queues nothing`, async () => {
      const { body, headers: sent } = make();
      const res = await post(body, sent);
      assert.equal(res.status, status);
      assert.match((res.body as { error: string }).error, message);
      assert.deepEqual(await queued(), [0, 0, 0]);
    });
  }

  test("with no secret for the project, every delivery is refused", async () => {
    const log = createLogger({ level: "silent", pretty: false });
    const app = createWebApp({
      isReady: () => Promise.resolve(true),
      routes: [webhookRoute({ intake: gitlabIntake({ secretFor: () => undefined }), queues, log })],
      githubConfigured: false,
      log,
    });
    const res = await request(app)
      .post("/api/gitlab/webhooks")
      .set(headers("Merge Request Hook", ""))
      .send(JSON.stringify(merged));
    assert.equal(res.status, 401);
    assert.deepEqual(await queued(), [0, 0, 0]);
  });

  test("events and actions Ferry does not use, and its own notes, are acknowledged and dropped", async () => {
    const tag = gitlabFixture(gitlabFixtureFiles.tagPush);
    assert.deepEqual(JSON.parse((await send("Tag Push Hook", tag, SHARED_SECRET)).body), {
      ignored: "Ferry does not act on Tag Push Hook",
    });
    const closed = gitlabMergeRequestEvent({
      project: shop,
      iid: 7,
      action: "close",
      sourceBranch: "feature",
      targetBranch: "main",
      lastCommitSha: headSha,
      user: "dev",
    });
    assert.deepEqual(JSON.parse((await send("Merge Request Hook", closed, SHOP_SECRET)).body), {
      ignored: "Ferry does not act on Merge Request Hook.close",
    });
    const own = gitlabNoteEvent({ project: shop, iid: 7, body: "/ferry plan", user: "ferry-bot", noteId: 9 });
    assert.deepEqual(JSON.parse((await send("Note Hook", own, SHOP_SECRET)).body), {
      ignored: "note by Ferry (ferry-bot)",
    });
    assert.deepEqual(await queued(), [0, 0, 0]);
  });

  test("a body over 25 MB is refused with 413", async () => {
    const res = await post(JSON.stringify({ pad: "x".repeat(26 * 1024 * 1024) }), headers("Push Hook"));
    assert.equal(res.status, 413);
    assert.deepEqual(await queued(), [0, 0, 0]);
  });

  test("while Redis is down intake answers 503, and accepts the redelivery once it is back", async () => {
    const port = redis.port;
    await redis.kill();
    const res = await send("Merge Request Hook", merged, SHOP_SECRET, "uuid-down");
    assert.equal(res.status, 503);
    assert.deepEqual(JSON.parse(res.body), { error: "queue unavailable, redeliver later" });
    const restarted = await startRedisServer({ dir: redis.dir, port, appendOnly: false });
    redis = { ...restarted, dir: redis.dir, stop: async () => restarted.stop() };
    await waitUntil("intake did not reconnect to Redis", () => redisIsUp(intakeRedis), 10_000);
    assert.equal((await send("Merge Request Hook", merged, SHOP_SECRET, "uuid-down")).status, 202);
  });
});
