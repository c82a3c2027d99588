/**
 * A worker process for `test/worker-stalls.test.ts`: Ferry's workers (`startWorkers`) whose rollout
 * job counts each run in Redis (`stalling-worker:runs`) and hangs on the first `HANG_RUNS` runs, as
 * a job does on a worker that is about to be killed; later runs end `succeeded`.
 * Usage: node --import tsx test/support/stalling-worker.ts <redis-url> <hang-runs>
 */
import { Redis } from "ioredis";
import pino from "pino";
import { connectRedis } from "../../src/queue/redis-connection.js";
import { startWorkers } from "../../src/worker/start-workers.js";

const [url = "", hangRuns = "0"] = process.argv.slice(2);
const counter = new Redis(url);
const never = () => new Promise<never>(() => undefined);
startWorkers({
  connection: () => connectRedis(url),
  concurrency: 1,
  claimMs: 500,
  log: pino({ level: "silent" }),
  rollout: async () => ((await counter.incr("stalling-worker:runs")) <= Number(hangRuns) ? never() : "succeeded"),
  deploy: never,
  release: never,
  plan: never,
  reconcile: never,
  command: never,
});
process.stdout.write("ready\n");
