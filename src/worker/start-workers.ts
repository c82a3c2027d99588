import { UnrecoverableError, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { isPermanent } from "../errors.js";
import type { Attempt } from "../jobs/deploy-job.js";
import { DEPLOY_QUEUE, type DeployRequest } from "../queue/deploy-request.js";
import { COMMAND_QUEUE, PLAN_QUEUE, type CommandRequest, type PlanRequest } from "../queue/plan-request.js";

/** The job functions the worker role runs, one per queue. */
export interface WorkerJobs {
  /** Runs a deploy job. */
  deploy: (request: DeployRequest, attempt: Attempt) => Promise<unknown>;
  /** Runs a plan job. */
  plan: (request: PlanRequest, attempt: Attempt) => Promise<unknown>;
  /** Runs a comment-command job. */
  command: (request: CommandRequest, attempt: Attempt) => Promise<unknown>;
}

/** What {@link startWorkers} needs. */
export interface StartWorkersOptions extends WorkerJobs {
  /** A new Redis connection for each worker (BullMQ blocks one per worker). */
  connection(): Redis;
  /** Jobs each worker runs at once. */
  concurrency: number;
  log: Logger;
}

/** Starts one BullMQ worker per queue; `close` lets running jobs finish. */
export function startWorkers(options: StartWorkersOptions): { close(): Promise<void> } {
  const workers = [
    worker(DEPLOY_QUEUE, options.deploy, options),
    worker(PLAN_QUEUE, options.plan, options),
    worker(COMMAND_QUEUE, options.command, options),
  ];
  return { close: async () => void (await Promise.all(workers.map((w) => w.close()))) };
}

function worker<T>(queue: string, run: (request: T, attempt: Attempt) => Promise<unknown>, options: StartWorkersOptions): Worker<T> {
  const w = new Worker<T>(
    queue,
    async (job: Job<T>) => {
      try {
        return await run(job.data, { number: job.attemptsMade + 1, of: job.opts.attempts ?? 1 });
      } catch (error) {
        // Permanent errors fail the job at once; anything else is retried with backoff.
        if (isPermanent(error)) throw new UnrecoverableError((error as Error).message);
        throw error;
      }
    },
    { connection: options.connection(), concurrency: options.concurrency },
  );
  w.on("error", (error) => options.log.warn({ err: error, queue }, "worker connection error"));
  w.on("failed", (job, error) => options.log.warn({ jobId: job?.id, queue, err: error }, "job failed"));
  return w;
}
