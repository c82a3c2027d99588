import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { startTestRedis } from "../../test/support/redis.js";
import { waitUntil } from "../../test/support/wait-until.js";
import { JobBatcher } from "./job-batcher.js";
import { connectRedis } from "./redis-connection.js";

describe("JobBatcher", () => {
  let server: Awaited<ReturnType<typeof startTestRedis>>;
  let redis: Redis;
  let queue: Queue<{ n: number }>;
  let n = 0;

  before(async () => {
    server = await startTestRedis();
    redis = connectRedis(server.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    queue = new Queue(`batcher-${++n}`, { connection: redis });
  });
  after(async () => {
    await queue?.close();
    redis?.disconnect();
    await server?.stop();
  });

  it("sends 50 adds made in one loop turn as one addBulk (one pipelined write), a lone add as a plain add, duplicates once", async () => {
    const calls: string[] = [];
    const addBulk = queue.addBulk.bind(queue);
    const add = queue.add.bind(queue);
    queue.addBulk = (jobs) => {
      calls.push(`bulk of ${jobs.length}`);
      return addBulk(jobs);
    };
    queue.add = (name, data, opts) => {
      calls.push("add");
      return add(name, data, opts);
    };
    const batcher = new JobBatcher(queue);
    try {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          batcher.add({ name: "job", data: { n: i }, opts: { jobId: `job-${i % 40}` } }),
        ),
      );
      await batcher.add({ name: "job", data: { n: 50 }, opts: { jobId: "job-50" } });
    } finally {
      queue.addBulk = addBulk;
      queue.add = add;
    }
    assert.deepEqual(calls, ["bulk of 50", "add"]);
    assert.equal(await queue.count(), 41, "ids seen twice are one job");
  });

  it("groups the adds made while a write is in flight into the next write (group commit)", async () => {
    const calls: string[] = [];
    const addBulk = queue.addBulk.bind(queue);
    const add = queue.add.bind(queue);
    // Each write takes 50 ms, as a busy Redis would.
    const slow = async <R>(call: string, write: () => Promise<R>) => {
      calls.push(call);
      await new Promise((r) => setTimeout(r, 50));
      return write();
    };
    queue.addBulk = (jobs) => slow(`bulk of ${jobs.length}`, () => addBulk(jobs));
    queue.add = (name, data, opts) => slow("add", () => add(name, data, opts));
    const batcher = new JobBatcher(queue);
    try {
      const first = batcher.add({ name: "job", data: { n: 0 }, opts: { jobId: "group-0" } });
      await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(calls, ["add"], "a lone add at a quiet moment is written at once");
      const rest = Array.from({ length: 10 }, (_, i) =>
        batcher.add({ name: "job", data: { n: i + 1 }, opts: { jobId: `group-${i + 1}` } }),
      );
      await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(calls, ["add"], "nothing more is written while the first write is in flight");
      await Promise.all([first, ...rest]);
    } finally {
      queue.addBulk = addBulk;
      queue.add = add;
    }
    assert.deepEqual(calls, ["add", "bulk of 10"]);
    for (let i = 0; i <= 10; i++) assert.ok(await queue.getJob(`group-${i}`), `group-${i} is in Redis`);
  });

  it("rejects every add of a batch Redis could not take, and batches again once it is back", async () => {
    const batcher = new JobBatcher(queue);
    const port = server.port;
    await server.kill();
    const results = await Promise.allSettled(
      [1, 2, 3].map((i) => batcher.add({ name: "job", data: { n: i }, opts: { jobId: `down-${i}` } })),
    );
    assert.deepEqual(
      results.map((r) => r.status),
      ["rejected", "rejected", "rejected"],
    );
    const { startRedisServer } = await import("../redis/redis-server.js");
    const restarted = await startRedisServer({ dir: server.dir, port, appendOnly: false });
    server = { ...restarted, dir: server.dir, stop: () => restarted.stop() };
    await waitUntil("the connection did not come back", () => redis.status === "ready", 10_000);
    await batcher.add({ name: "job", data: { n: 4 }, opts: { jobId: "up-4" } });
    assert.ok(await queue.getJob("up-4"));
  });
});
