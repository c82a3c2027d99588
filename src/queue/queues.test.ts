import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { DeployRequest } from "../domain/requests.js";
import { startTestRedis } from "../../test/support/redis.js";
import { waitUntil } from "../../test/support/wait-until.js";
import { DEPLOY_QUEUE } from "./deploy-request.js";
import { COMMAND_QUEUE, PLAN_QUEUE } from "./plan-request.js";
import { DEDUPE_WINDOW_MS, Queues } from "./queues.js";
import { connectRedis } from "./redis-connection.js";

const deploy = (n: number): DeployRequest => ({
  repo: { forge: "github", fullName: "acme/shop" },
  branch: "main",
  sha: n.toString(16).padStart(40, "0"),
  actor: "dev",
  deliveryId: `delivery-${n}`,
});

describe("Queues", () => {
  let server: Awaited<ReturnType<typeof startTestRedis>>;
  let redis: Redis;
  let workerRedis: Redis;
  let queues: Queues;

  before(async () => {
    server = await startTestRedis();
    redis = connectRedis(server.url);
    workerRedis = connectRedis(server.url);
    queues = new Queues(redis);
  });
  after(async () => {
    await queues?.close();
    redis?.disconnect();
    workerRedis?.disconnect();
    await server?.stop();
  });

  it("drops a redelivered deploy within the window even after 10,000 newer jobs finished", async () => {
    const NEWER = 10_100;
    const deployQueue = new Queue(DEPLOY_QUEUE, { connection: redis });
    const ran: string[] = [];
    const worker = new Worker(DEPLOY_QUEUE, (job) => Promise.resolve(void ran.push(job.id ?? "")), {
      connection: workerRedis,
      concurrency: 100,
    });
    try {
      const first = await queues.enqueueDeploy(deploy(0));
      // 100 more than BullMQ keeps, so the first is trimmed even if a few (stalled on a loaded machine) finish late.
      await Promise.all(Array.from({ length: NEWER }, (_, i) => queues.enqueueDeploy(deploy(i + 1))));
      await waitUntil(
        () => `${NEWER + 1} jobs run (${ran.length} so far)`,
        () => new Set(ran).size === NEWER + 1,
        180_000,
        200,
      );
      // BullMQ keeps at most 10,000 completed jobs: the first one's record is gone.
      await waitUntil(
        "the first job's record trimmed",
        async () => (await deployQueue.getJob(first)) === undefined,
        // The last completions (and their trim) trail the last runs, slowly on a loaded machine.
        180_000,
      );

      assert.equal(await queues.enqueueDeploy(deploy(0)), first, "the redelivery answers with the same job id");
      // A job queued after the redelivery: once it ran and nothing waits, a re-queued first job would have run too.
      const later = await queues.enqueueDeploy(deploy(NEWER + 1));
      await waitUntil(
        "the later job run and the queue drained",
        async () => {
          const counts = await deployQueue.getJobCounts("waiting", "active", "delayed", "prioritized");
          return ran.includes(later) && Object.values(counts).every((n) => n === 0);
        },
        30_000,
      );
      assert.equal(ran.filter((id) => id === first).length, 1, "the redelivered deploy did not run again");
    } finally {
      await worker.close();
      await deployQueue.close();
    }
  });

  it("remembers every intake job id for the documented week, in a key of its own", async () => {
    const ids = [
      [DEPLOY_QUEUE, await queues.enqueueDeploy(deploy(20_000))],
      [
        PLAN_QUEUE,
        await queues.enqueuePlan({
          repo: { forge: "gitlab", fullName: "acme/shop" },
          change: 7,
          headSha: "a".repeat(40),
          baseBranch: "main",
          actor: "dev",
          deliveryId: "d-plan",
          fromFork: false,
        }),
      ],
      [
        COMMAND_QUEUE,
        await queues.enqueueCommand({
          repo: { forge: "github", fullName: "acme/shop" },
          change: 7,
          commentId: 99,
          user: "dev",
          command: "plan",
          deliveryId: "d-command",
        }),
      ],
    ] as const;
    assert.equal(DEDUPE_WINDOW_MS, 7 * 24 * 3600 * 1000);
    for (const [queue, id] of ids) {
      const ttl = await redis.pttl(`bull:${queue}:de:${id}`);
      assert.ok(ttl > DEDUPE_WINDOW_MS - 60_000 && ttl <= DEDUPE_WINDOW_MS, `${queue} ${id}: ttl ${ttl}`);
    }
  });
});
