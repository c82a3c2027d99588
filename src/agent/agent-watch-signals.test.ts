import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import pino from "pino";
import { startTestRedis } from "../../test/support/redis.js";
import { waitUntil } from "../../test/support/wait-until.js";
import type { ReconcileJobData } from "../queue/reconcile-request.js";
import { reconcileSchedulerId } from "../queue/reconcile-request.js";
import { WatchRegistry } from "../watch/watch-registry.js";
import { agentKeys } from "./agent-keys.js";
import { AGENT_WATCHED_CLUSTERS, AgentWatchRegistry } from "./agent-watch-registry.js";
import { startAgentWatchSignals } from "./agent-watch-signals.js";

/** A watched environment's reconcile data on `cluster`. */
function dataOf(environment: string, cluster: string): ReconcileJobData {
  return {
    repo: { forge: "github", fullName: "acme/shop" },
    branch: "main",
    environment,
    cluster,
    namespace: "shop",
    drift: "report",
    watch: true,
    everyMs: 3_600_000,
  };
}
const idOf = (d: ReconcileJobData) => reconcileSchedulerId(d.repo, d.environment, d.cluster);
const entryOf = (data: ReconcileJobData) => ({
  data,
  inventory: "shop/ferry-x",
  types: [{ apiVersion: "v1", kind: "ConfigMap", namespace: "shop" }],
});

describe("agents' watched changes, popped by central Ferry (real redis-server)", () => {
  let server: Awaited<ReturnType<typeof startTestRedis>>;
  let redis: Redis;
  before(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
  });
  after(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  test("a change an agent tells is queued as a reconcile of its environment; one no longer watched is dropped", async () => {
    const registry = new AgentWatchRegistry(redis);
    const watched = dataOf("prod", "edge-7");
    const gone = dataOf("old", "edge-7");
    await registry.record("edge-7", idOf(watched), entryOf(watched));
    await registry.record("edge-7", idOf(gone), entryOf(gone));
    // The environment stops watching (a reconcile without watch: true) after its agent told a change.
    await redis.sadd(agentKeys("edge-7").changed, idOf(gone));
    await new WatchRegistry(redis).forget(idOf(gone), "edge-7");
    const queued: string[] = [];
    const signals = startAgentWatchSignals({
      redis,
      reconcileSoon: (data) => Promise.resolve(void queued.push(data.environment)),
      log: pino({ level: "silent" }),
      pollMs: 50,
    });
    try {
      await redis.sadd(agentKeys("edge-7").changed, idOf(watched));
      await waitUntil("the watched change was never queued", () => queued.length >= 1, 10_000, 10);
      // Polls run one after another: a second change queued means the first poll's ids were all handled.
      await redis.sadd(agentKeys("edge-7").changed, idOf(watched));
      await waitUntil("the second change was never queued", () => queued.length >= 2, 10_000, 10);
      assert.deepEqual(queued, ["prod", "prod"]);
      assert.equal(await redis.scard(agentKeys("edge-7").changed), 0);
    } finally {
      await signals.stop();
    }
  });

  test("clusters that watch nothing any more are pruned; one that still does is kept", async () => {
    const registry = new AgentWatchRegistry(redis);
    const kept = dataOf("prod", "edge-8");
    const left = dataOf("prod", "edge-9");
    await registry.record("edge-8", idOf(kept), entryOf(kept));
    await registry.record("edge-9", idOf(left), entryOf(left));
    await registry.forget("edge-9", idOf(left));
    await registry.prune();
    const clusters = await redis.smembers(AGENT_WATCHED_CLUSTERS);
    assert.ok(clusters.includes("edge-8"), JSON.stringify(clusters));
    assert.ok(!clusters.includes("edge-9"), JSON.stringify(clusters));
    assert.deepEqual(await registry.entry("edge-8", idOf(kept)), entryOf(kept));
  });
});
