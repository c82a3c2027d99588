import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { WaitingChildrenError } from "bullmq";
import { Redis } from "ioredis";
import type { DeployRequest } from "../src/domain/requests.js";
import { releaseLockKey } from "../src/jobs/release-deps.js";
import { PlanStore } from "../src/plan/plan-store.js";
import { lockWaiters, withLock } from "../src/queue/environment-lock.js";
import { createLogger } from "../src/logger.js";
import { QueueLayout } from "../src/queue/queue-layout.js";
import { Queues } from "../src/queue/queues.js";
import { startWorkers } from "../src/worker/start-workers.js";
import { openRedis, queueLayout, type RedisClient } from "../src/queue/redis-connection.js";
import { startTestRedisCluster, type TestRedisCluster } from "./support/redis.js";
import { waitUntil } from "./support/wait-until.js";

const CLUSTERS = Array.from({ length: 100 }, (_, i) => `edge-${String(i).padStart(3, "0")}`);

const deploy = (n: number): DeployRequest => ({
  repo: { forge: "github", fullName: `acme/shop-${n}` },
  branch: "main",
  sha: n.toString(16).padStart(40, "0"),
  actor: "dev",
  deliveryId: `d-${n}`,
});

/** Keys per master, by what they hold: each master's own keyspace, read with SCAN on that node. */
async function keysPerNode(cluster: TestRedisCluster): Promise<Array<Record<string, number>>> {
  return Promise.all(
    cluster.ports.map(async (port) => {
      const node = new Redis({ host: "127.0.0.1", port });
      try {
        const kinds: Record<string, number> = {};
        for await (const batch of node.scanStream({ count: 1000 }) as AsyncIterable<string[]>)
          for (const key of batch) {
            const kind = /ferry-(deploy|rollout|reconcile)|lock:release/.exec(key)?.[0] ?? "other";
            kinds[kind] = (kinds[kind] ?? 0) + 1;
          }
        return kinds;
      } finally {
        node.disconnect();
      }
    }),
  );
}

/** Empties every master, so a test sees only its own keys and jobs. */
async function flushCluster(cluster: TestRedisCluster): Promise<void> {
  await Promise.all(
    cluster.ports.map(async (port) => {
      const node = new Redis({ host: "127.0.0.1", port });
      await node.flushall();
      node.disconnect();
    }),
  );
}

/** The work of 100 clusters: a repository's deploy, a rollout, a reconcile schedule and a release lock each. */
async function queueWorkOf100Clusters(redis: RedisClient, queues: Queues): Promise<void> {
  for (const [n, cluster] of CLUSTERS.entries()) {
    await queues.enqueueDeploy(deploy(n));
    await queues.startRollout(`rollout-of-${cluster}`);
    await queues.scheduleReconcile({
      repo: deploy(n).repo,
      branch: "main",
      environment: "production",
      cluster,
      namespace: "shop",
      drift: "report",
      everyMs: 3_600_000,
    });
    await redis.set(releaseLockKey(deploy(n).repo, "production", cluster), "held", "PX", 600_000);
  }
}

describe("queues on a Redis Cluster of three masters", () => {
  let cluster: TestRedisCluster;
  before(async () => {
    cluster = await startTestRedisCluster();
  });
  after(async () => {
    await cluster?.stop();
  });

  test("the queues and locks of 100 clusters are spread over all three masters (keys counted per node)", async () => {
    const target = cluster.target();
    const redis = openRedis(target);
    const queues = new Queues(redis, queueLayout(target));
    try {
      await queueWorkOf100Clusters(redis, queues);
      const perNode = await keysPerNode(cluster);
      console.log(`keys per master: ${JSON.stringify(perNode)}`);
      const total = perNode.reduce((sum, kinds) => sum + Object.values(kinds).reduce((a, b) => a + b, 0), 0);
      for (const [i, kinds] of perNode.entries()) {
        const here = Object.values(kinds).reduce((a, b) => a + b, 0);
        // An even spread gives each master a third; hashing 100 routing keys into 6 groups strays from it, not this far.
        assert.ok(here > total / 5, `master ${i} holds ${here} of ${total} keys: ${JSON.stringify(perNode)}`);
        for (const kind of ["ferry-deploy", "ferry-rollout", "ferry-reconcile", "lock:release"])
          assert.ok((kinds[kind] ?? 0) > 0, `master ${i} holds no ${kind} key: ${JSON.stringify(perNode)}`);
      }
    } finally {
      await queues.close();
      redis.disconnect();
    }
  });

  test("with one queue group (the layout before groups) every queue key is on one master", async () => {
    await flushCluster(cluster);
    const target = cluster.target(1);
    const redis = openRedis(target);
    const queues = new Queues(redis, queueLayout(target));
    try {
      await queueWorkOf100Clusters(redis, queues);
      const perNode = await keysPerNode(cluster);
      const holding = perNode.filter((kinds) => (kinds["ferry-deploy"] ?? 0) + (kinds["ferry-rollout"] ?? 0) > 0);
      assert.equal(holding.length, 1, `queue keys on one master only: ${JSON.stringify(perNode)}`);
    } finally {
      await queues.close();
      redis.disconnect();
    }
  });

  test("multi-key writes of Ferry's own keep their keys on one slot: a plan's text and repository, a lock's waiters", async () => {
    const redis = openRedis(cluster.target());
    try {
      const plans = new PlanStore(redis);
      const id = await plans.save("plan text", { forge: "github", fullName: "acme/shop" });
      assert.equal(await plans.load(id), "plan text");
      assert.deepEqual(await plans.repoOf(id), { forge: "github", fullName: "acme/shop" });

      const key = releaseLockKey({ forge: "github", fullName: "acme/shop" }, "production", "edge-007");
      let release = () => undefined as void;
      const held = withLock(redis, key, () => new Promise<void>((resolve) => (release = resolve)));
      const waiting = withLock(redis, key, () => Promise.resolve("second"), { waiter: "newer commit" });
      await waitUntil(
        "the second caller is listed as waiting",
        async () => (await lockWaiters(redis, key)).length === 1,
        10_000,
      );
      assert.deepEqual(await lockWaiters(redis, key), ["newer commit"]);
      release();
      await held;
      assert.equal(await waiting, "second");
    } finally {
      redis.disconnect();
    }
  });

  test("an install upgraded from the single {ferry} tag: its queued jobs, a rollout with its releases and its schedulers carry on", async () => {
    await flushCluster(cluster);
    const target = cluster.target(6);
    const connections: RedisClient[] = [];
    const connect = () => {
      const c = openRedis(target);
      connections.push(c);
      return c;
    };
    const redis = connect();
    const before = new Queues(redis, QueueLayout.cluster(1));
    const after = new Queues(redis, queueLayout(target));
    const ran: string[] = [];
    const reconcile = {
      repo: deploy(1).repo,
      branch: "main",
      environment: "production",
      cluster: "edge-1",
      namespace: "shop",
      drift: "report" as const,
      everyMs: 3_600_000,
    };
    try {
      // What the earlier Ferry left in {ferry}: a deploy, a rollout, a reconcile scheduler.
      await before.enqueueDeploy(deploy(1));
      await before.startRollout("from-before");
      await before.scheduleReconcile(reconcile);
      const workers = startWorkers({
        connection: connect,
        layout: queueLayout(target),
        concurrency: 2,
        log: createLogger({ level: "silent" }),
        deploy: (r) => {
          ran.push(`deploy ${r.sha.slice(-1)}`);
          return Promise.resolve([]);
        },
        plan: () => Promise.resolve([]),
        command: () => Promise.resolve(undefined),
        reconcile: () => Promise.reject(new Error("no reconcile runs in this test")),
        rollout: async (job, token) => {
          if (!ran.includes("release edge-1")) {
            await after.addReleases(job, [{ rolloutId: job.data.rolloutId, cluster: "edge-1", wave: 0, index: 0 }]);
          }
          if (await job.moveToWaitingChildren(token)) throw new WaitingChildrenError();
          ran.push(`rollout ${job.data.rolloutId} done`);
          return "succeeded";
        },
        release: (data) => {
          ran.push(`release ${data.cluster}`);
          return Promise.resolve("released" as const);
        },
      });
      try {
        await waitUntil(
          () => `the drained jobs ran (ran: ${ran.join(", ")})`,
          () => ran.includes("deploy 1") && ran.includes("rollout from-before done"),
          20_000,
          50,
        );
        assert.deepEqual(
          ran.filter((r) => r.startsWith("release")),
          ["release edge-1"],
        );
      } finally {
        await workers.close();
      }
      // The next deploy of the branch schedules its reconcile again: it moves to its cluster's group.
      await after.scheduleReconcile(reconcile);
      assert.deepEqual(await before.reconcileSchedules(reconcile.repo, "main"), []);
      assert.deepEqual(
        (await after.reconcileSchedules(reconcile.repo, "main")).map((r) => r.cluster),
        ["edge-1"],
      );
    } finally {
      await before.close();
      await after.close();
      for (const c of connections) c.disconnect();
    }
  });
});
