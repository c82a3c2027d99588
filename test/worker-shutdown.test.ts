/**
 * A `ferry worker` stopped while Redis is gone and a job is running: the job cannot finish (its
 * writes wait for Redis), so the worker abandons it once Redis has been away STOP_WITHOUT_REDIS_MS,
 * and exits 1 saying why, instead of ignoring SIGTERM until the pod is killed.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { STOP_WITHOUT_REDIS_MS } from "../src/worker/start-workers.js";
import { FerryHarness } from "./support/ferry-harness.js";
import { FerryProcess } from "./support/ferry-process.js";
import { ensureFakeNodes } from "./support/kwok.js";
import { waitUntil } from "./support/wait-until.js";
import { deploymentYaml } from "./support/workloads.js";

/** What the machine may add to the grace before the process is gone (start of shutdown, exit, loaded cores). */
const MARGIN_MS = 20_000;

describe("a worker whose Redis is gone stops on SIGTERM", () => {
  let h: FerryHarness;
  let worker: FerryProcess | undefined;
  before(async () => {
    h = await FerryHarness.start("github", {}, { roles: { web: true, worker: false } });
    await ensureFakeNodes(h.kc);
  });
  after(async () => {
    await worker?.stop("SIGKILL");
    await h?.close();
  });

  test("with a release waiting for health, it exits 1 within the grace, logging that it abandoned the job", async () => {
    worker = await FerryProcess.start(h, "worker");
    const repo = await h.createRepo({ environment: { wait: { timeout: "10m" } } });
    // Scheduled on no node: the release waits for health for as long as the test needs.
    const merge = await h.merge(repo, { "deploy/web.yaml": deploymentYaml("web", { nodes: "none" }) });
    await h.deliver(merge.delivery);
    await waitUntil(
      () => `the release never waited for health: ${JSON.stringify(h.statuses(repo, merge.sha))}`,
      () => h.statuses(repo, merge.sha).some((s) => s.description.startsWith("waiting: ")),
      60_000,
    );

    const redis = new Redis(h.redisUrl, { maxRetriesPerRequest: 0, retryStrategy: () => null });
    redis.on("error", () => undefined);
    await redis.call("SHUTDOWN", "NOSAVE").catch(() => undefined);
    redis.disconnect();
    const stopping = Date.now();
    const code = await worker.stop("SIGTERM", STOP_WITHOUT_REDIS_MS + MARGIN_MS);
    const took = Date.now() - stopping;
    const log = worker.output();
    assert.equal(code, 1, log);
    assert.ok(took >= STOP_WITHOUT_REDIS_MS, `it gave the job no grace: exited after ${took} ms`);
    const why = log.split("\n").find((line) => line.includes('"msg":"shutdown step failed"'));
    assert.match(
      why ?? "",
      /Redis unreachable for 10 s while stopping: abandoned 1 running ferry-release job/,
      `no line says why:\n${log}`,
    );
    const last = log.split("\n").find((line) => line.includes('"msg":"shutdown failed: exiting 1"'));
    assert.match(last ?? "", /Redis unreachable for 10 s while stopping/, `no final line says why:\n${log}`);
  });
});
