import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { serverConfigSchema } from "../src/config/server-config.js";
import { startFerry, type RunningFerry } from "../src/ferry.js";
import { createLogger } from "../src/logger.js";
import { startTestRedis } from "./support/redis.js";
import { waitUntil } from "./support/wait-until.js";

/** Waits up to five seconds for `/readyz` to answer `status`. */
async function readiness(ferry: RunningFerry, status: number): Promise<void> {
  let answer = 0;
  await waitUntil(
    () => `/readyz did not answer ${status} (last ${answer})`,
    async () => (answer = (await fetch(`${ferry.url}/readyz`)).status) === status,
    5_000,
  );
}

test("`ferry worker` serves health, readiness and metrics but no webhooks or dashboard; readiness follows Redis, and it stops while Redis is away", async () => {
  const redis = await startTestRedis();
  const dataDir = await mkdtemp(join(tmpdir(), "ferry-worker-role-"));
  let ferry: RunningFerry | undefined;
  try {
    ferry = await startFerry({
      roles: { web: false, worker: true },
      config: serverConfigSchema.parse({}),
      log: createLogger({ level: "silent" }),
      port: 0,
      redisUrl: redis.url,
      dataDir,
      env: { FERRY_ADMIN_USER: "ops", FERRY_ADMIN_PASSWORD: "pw", GITLAB_WEBHOOK_SECRET: "s" },
      githubWriteSpacing: false,
    });
    assert.deepEqual(await (await fetch(`${ferry.url}/healthz`)).json(), { status: "ok" });
    await readiness(ferry, 200);
    const metrics = await (await fetch(`${ferry.url}/metrics`)).text();
    assert.match(metrics, /^# TYPE ferry_jobs_total counter$/m);
    assert.match(metrics, /^ferry_queue_jobs\{queue="ferry-deploy",state="waiting"\} 0$/m);
    assert.match(await (await fetch(`${ferry.url}/`)).text(), /^Ferry worker/);
    assert.equal((await fetch(`${ferry.url}/api/gitlab/webhooks`, { method: "POST", body: "{}" })).status, 404);
    const basic = `Basic ${Buffer.from("ops:pw").toString("base64")}`;
    assert.equal((await fetch(`${ferry.url}/admin/queues`, { headers: { authorization: basic } })).status, 404);

    await redis.stop();
    await readiness(ferry, 503);
    assert.equal((await fetch(`${ferry.url}/healthz`)).status, 200, "alive while Redis is away");
    assert.doesNotMatch(
      await (await fetch(`${ferry.url}/metrics`)).text(),
      /^ferry_queue_jobs\{/m,
      "no queue depth without Redis, and the scrape still answers",
    );
    // A worker stopping while Redis is away must not wait for Redis forever (a pod would hang in Terminating).
    const stopping = Date.now();
    await ferry.close();
    ferry = undefined;
    assert.ok(Date.now() - stopping < 10_000, `closing took ${Date.now() - stopping} ms`);
  } finally {
    await ferry?.close();
    await redis.stop().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  }
});
