/**
 * A job whose worker process is SIGKILLed while it runs goes back to its queue and runs again, on
 * each of several kills: a rollout's job lives for all its waves, so worker restarts that catch it
 * running add up (BullMQ's default fails a job for good on its second stall).
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { after, before, test } from "node:test";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { ROLLOUT_QUEUE } from "../src/queue/queues.js";
import { Queues } from "../src/queue/queues.js";
import { startTestRedis } from "./support/redis.js";
import { waitUntil } from "./support/wait-until.js";

const KILLS = 3;
let redis: Awaited<ReturnType<typeof startTestRedis>>;
let client: Redis;
const children: ChildProcess[] = [];

/** Starts a worker process whose rollout job hangs on its first KILLS runs. */
async function startWorker(): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", new URL("./support/stalling-worker.ts", import.meta.url).pathname, redis.url, String(KILLS)],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  children.push(child);
  await once(child.stdout as NodeJS.ReadableStream, "data");
  return child;
}

before(async () => {
  redis = await startTestRedis();
  client = new Redis(redis.url);
});
after(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  client.disconnect();
  await redis.stop();
});

test(`a rollout's job whose worker is killed ${KILLS} times while it runs still runs to its end`, async () => {
  const queues = new Queues(client);
  await queues.startRollout("stalls");
  const runs = async () => Number((await client.get("stalling-worker:runs")) ?? 0);
  for (let kill = 1; kill <= KILLS; kill++) {
    const worker = await startWorker();
    await waitUntil(`run ${kill} never started`, async () => (await runs()) === kill, 30_000);
    worker.kill("SIGKILL");
    await once(worker, "exit");
  }
  await startWorker();
  const queue = new Queue(ROLLOUT_QUEUE, { connection: client });
  const [job] = await queue.getJobs(["completed", "failed", "active", "wait", "delayed"]);
  assert.ok(job?.id);
  await waitUntil(
    "the job never finished",
    async () => (await queue.getJob(job.id ?? ""))?.finishedOn !== undefined,
    30_000,
  );
  const finished = await queue.getJob(job.id);
  assert.equal(finished?.failedReason, undefined, finished?.failedReason);
  assert.equal(finished?.returnvalue, "succeeded");
  assert.equal(await runs(), KILLS + 1);
  await queue.close();
  await queues.close();
});
