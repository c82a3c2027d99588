import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Worker } from "bullmq";
import type { Redis } from "ioredis";
import { startTestRedis } from "../../test/support/redis.js";
import type { PlanRequest } from "../domain/requests.js";
import type { EnvironmentPlan } from "../plan/types.js";
import { handoverQueueName, PlanHandover, type HandedPlan, type HandedPlanResult } from "./plan-handover.js";
import { QueueLayout } from "./queue-layout.js";
import { connectRedis } from "./redis-connection.js";

const request = {
  repo: { forge: "github", fullName: "acme/shop" },
  change: 7,
  headSha: "abc",
  baseBranch: "main",
  deliveryId: "d-1",
} as unknown as PlanRequest;
const plans: EnvironmentPlan[] = [
  {
    environment: "prod",
    cluster: "one",
    sha: "abc",
    objects: [],
    counts: { create: 1, update: 0, delete: 0, unchanged: 0 },
  },
];

describe("PlanHandover", () => {
  let server: Awaited<ReturnType<typeof startTestRedis>>;
  let redis: Redis;
  let handover: PlanHandover;
  let n = 0;
  const owner = () => `holder-${++n}`;
  const connections: Redis[] = [];

  before(async () => {
    server = await startTestRedis();
    redis = connectRedis(server.url);
    handover = new PlanHandover(redis, QueueLayout.single());
  });
  after(async () => {
    for (const c of [redis, ...connections]) c?.disconnect();
    await server?.stop();
  });

  /** The holder's worker, running handed plans with `run`. */
  const holder = (name: string, run: (plan: HandedPlan) => Promise<HandedPlanResult>, lockDuration?: number) =>
    new Worker<HandedPlan, HandedPlanResult>(handoverQueueName(name), (job) => run(job.data), {
      connection: connections[connections.push(connectRedis(server.url)) - 1] as Redis,
      ...(lockDuration === undefined ? {} : { lockDuration, stalledInterval: 60_000 }),
    });

  it("returns what the holder planned, and removes the job", async () => {
    const name = owner();
    const seen: HandedPlan[] = [];
    const worker = holder(name, (plan) => {
      seen.push(plan);
      return Promise.resolve({ plans });
    });
    try {
      const outcome = await handover.handOver(name, "job-1", { request, attempt: { number: 1, of: 8 } });
      assert.deepEqual(outcome, { kind: "planned", plans });
      assert.equal(seen.length, 1);
      assert.deepEqual(seen[0]?.request, request);
      assert.equal(await redis.exists(`bull:${handoverQueueName(name)}:job-1`), 0, "the finished job is removed");
    } finally {
      await worker.close();
    }
  });

  it("takes the plan back, removed, when nobody takes it in time", async () => {
    const name = owner();
    const started = Date.now();
    const outcome = await handover.handOver(name, "job-2", { request, attempt: { number: 1, of: 8 } }, { takeMs: 300 });
    assert.equal(outcome.kind, "not_taken");
    assert.ok(Date.now() - started >= 300);
    // Removed, not only left waiting: a holder that starts later has nothing to run.
    assert.equal(await redis.exists(`bull:${handoverQueueName(name)}:job-2`), 0);
    assert.equal(await redis.llen(`bull:${handoverQueueName(name)}:wait`), 0);
  });

  it("takes the plan back when the holder took it and stopped (its claim lapsed)", async () => {
    const name = owner();
    let taken!: () => void;
    const took = new Promise<void>((resolve) => (taken = resolve));
    const worker = holder(
      name,
      () => {
        taken();
        return new Promise<HandedPlanResult>(() => undefined);
      },
      500,
    );
    const following = handover.handOver(name, "job-3", { request, attempt: { number: 1, of: 8 } }, { takeMs: 200 });
    await took;
    // A killed process renews nothing: closing by force stops the renewal, and the claim lapses.
    void worker.close(true);
    const outcome = await following;
    assert.equal(outcome.kind, "stalled");
    assert.equal(await redis.exists(`bull:${handoverQueueName(name)}:job-3`), 0);
  });

  it("says a permanent failure the holder reported; any other failure comes back to be planned here", async () => {
    const name = owner();
    const results: HandedPlanResult[] = [
      { error: "bad config", permanent: true },
      { error: "API server unreachable", permanent: false },
    ];
    const worker = holder(name, () => Promise.resolve(results.shift() as HandedPlanResult));
    try {
      assert.deepEqual(await handover.handOver(name, "job-4", { request, attempt: { number: 1, of: 8 } }), {
        kind: "refused",
        error: "bad config",
      });
      assert.deepEqual(await handover.handOver(name, "job-5", { request, attempt: { number: 1, of: 8 } }), {
        kind: "failed",
        why: "API server unreachable",
      });
    } finally {
      await worker.close();
    }
  });
});
