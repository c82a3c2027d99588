/**
 * Agent clusters' releases do not wait for the slots of direct ones: the rollout job adds them to
 * `ferry-agent-release`, of which a worker follows up to AGENT_RELEASES_AT_ONCE at once, while its
 * direct releases keep the worker's `concurrency` (here 1). Real Redis, real BullMQ workers and
 * flows; the release function stands in for the release job (what it does is tested elsewhere).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { WaitingChildrenError } from "bullmq";
import { createLogger } from "../src/logger.js";
import { Queues } from "../src/queue/queues.js";
import { openRedis, type RedisClient } from "../src/queue/redis-connection.js";
import { startWorkers } from "../src/worker/start-workers.js";
import { startTestRedis } from "./support/redis.js";
import { waitUntil } from "./support/wait-until.js";

const AGENTS = ["edge-1", "edge-2", "edge-3"];
const DIRECT = ["hub-1", "hub-2"];

describe("agent clusters' releases beside direct ones", () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  const connections: RedisClient[] = [];
  const connect = () => {
    const connection = openRedis({ kind: "url", url: redis.url });
    connections.push(connection);
    return connection;
  };

  before(async () => (redis = await startTestRedis()));
  after(async () => {
    for (const c of connections) c.disconnect();
    await redis.stop();
  });

  test("a worker of concurrency 1 follows every agent release of a wave at once, and runs direct ones one at a time", async () => {
    const queues = new Queues(connect());
    const started = new Set<string>();
    let direct = 0;
    let mostDirect = 0;
    const ended: string[] = [];
    const workers = startWorkers({
      connection: connect,
      concurrency: 1,
      log: createLogger({ level: "silent" }),
      deploy: () => Promise.resolve([]),
      plan: () => Promise.resolve([]),
      command: () => Promise.resolve(undefined),
      reconcile: () => Promise.reject(new Error("no reconcile runs in this test")),
      rollout: async (job, token) => {
        if (started.size === 0)
          await queues.addReleases(
            job,
            [...AGENTS, ...DIRECT].map((cluster, index) => ({
              rolloutId: job.data.rolloutId,
              cluster,
              wave: 0,
              index,
              agent: AGENTS.includes(cluster),
            })),
          );
        if (await job.moveToWaitingChildren(token)) throw new WaitingChildrenError();
        return "succeeded";
      },
      release: async ({ cluster }) => {
        started.add(cluster);
        if (AGENTS.includes(cluster)) {
          // An agent's release ends only once every agent release of the wave has begun: run one
          // at a time, the first would wait for the others for good.
          await waitUntil(
            () => `agent releases begun: ${[...started].filter((c) => AGENTS.includes(c)).join(", ")}`,
            () => AGENTS.every((c) => started.has(c)),
            20_000,
            20,
          );
        } else {
          mostDirect = Math.max(mostDirect, ++direct);
          await new Promise((resolve) => setTimeout(resolve, 200));
          direct--;
        }
        ended.push(cluster);
        return "released";
      },
    });
    try {
      await queues.startRollout("mixed");
      await waitUntil(
        () => `releases ended: ${ended.join(", ")}`,
        () => ended.length === AGENTS.length + DIRECT.length,
        30_000,
        20,
      );
      assert.deepEqual(ended.filter((c) => AGENTS.includes(c)).sort(), AGENTS);
      assert.equal(mostDirect, 1, "direct releases kept the worker's concurrency");
    } finally {
      await workers.close();
    }
  });
});
