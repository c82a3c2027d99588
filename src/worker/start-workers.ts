import { DelayedError, UnrecoverableError, WaitingChildrenError, Worker, type Job } from "bullmq";
import type { Logger } from "pino";
import { isPermanent } from "../errors.js";
import type { Attempt } from "../jobs/release-deps.js";
import type { Metrics } from "../metrics/metrics.js";
import type { EnvironmentPlan } from "../plan/types.js";
import { DEPLOY_QUEUE } from "../queue/deploy-request.js";
import type { DeployRequest } from "../domain/requests.js";
import { COMMAND_QUEUE, PLAN_QUEUE } from "../queue/plan-request.js";
import {
  AGENT_RELEASE_QUEUE,
  RELEASE_QUEUE,
  ROLLOUT_QUEUE,
  type ReleaseJobData,
  type RolloutJobData,
} from "../queue/queues.js";
import type { ClusterOutcome } from "../domain/release.js";
import type { RolloutState } from "../domain/rollout.js";
import type { CommandRequest, PlanRequest } from "../domain/requests.js";
import { RECONCILE_QUEUE, type ReconcileJobData } from "../queue/reconcile-request.js";
import { QueueLayout, type QueuePrefix } from "../queue/queue-layout.js";
import type { HandedPlan, HandedPlanResult } from "../queue/plan-handover.js";
import type { RedisClient } from "../queue/redis-connection.js";
import type { ReconcileOutcome } from "../domain/reconcile.js";

/**
 * How many times a job whose worker died mid-run goes back to its queue before it fails for good
 * (BullMQ's `maxStalledCount`, default 1). Every job is safe to run again, and a rollout's job lives
 * for all its waves: with BullMQ's default, two worker restarts that each caught it running ended it
 * failed and never resumed. A job that kills every worker that runs it still fails after these.
 */
export const MAX_STALLS = 5;

/**
 * How long a stopping worker waits for its running jobs while Redis does not answer. With Redis up
 * they finish (the pod's terminationGracePeriodSeconds bounds that); without it they cannot (their
 * writes wait for Redis), so past this the worker abandons them: each runs again on another worker
 * once its claim lapses.
 */
export const STOP_WITHOUT_REDIS_MS = 10_000;

/**
 * Agent clusters' releases one worker follows at once, in each group, beside its `concurrency`
 * jobs of every other kind. Such a job only hands the release to the cluster's agent and reads
 * its progress (a Redis read every second at most), so a fleet of a thousand edge sites is not
 * released a few clusters at a time for want of slots its workers would spend waiting.
 */
export const AGENT_RELEASES_AT_ONCE = 100;

/** The `queue` label of the jobs of a worker's queue of handed plans (each process's queue has a name of its own). */
export const HANDED_PLANS_LABEL = "ferry-plan-handed";

/** The job functions the worker role runs, one per queue. */
export interface WorkerJobs {
  /** Runs a deploy job; the rollouts it started. */
  deploy: (request: DeployRequest, attempt: Attempt, job: Job<DeployRequest>) => Promise<string[]>;
  /** Runs a step of a rollout job (parks it with BullMQ's DelayedError or WaitingChildrenError); its final state. */
  rollout: (job: Job<RolloutJobData>, token: string) => Promise<RolloutState>;
  /** Runs one cluster's release; how it ended. */
  release: (data: ReleaseJobData, attempt: Attempt) => Promise<ClusterOutcome["kind"]>;
  /** Runs a plan job (here, or handed to the worker with its watch caches); the plan of each environment. */
  plan: (request: PlanRequest, attempt: Attempt, job: Job<PlanRequest>) => Promise<EnvironmentPlan[]>;
  /** Runs a reconcile of one environment on one cluster; what it found. */
  reconcile: (data: ReconcileJobData, attempt: Attempt) => Promise<ReconcileOutcome>;
  /** Runs a comment-command job. */
  command: (request: CommandRequest, attempt: Attempt) => Promise<unknown>;
}

/** What {@link startWorkers} needs. */
export interface StartWorkersOptions extends WorkerJobs {
  /** A new Redis connection for each queue's workers (each worker also blocks a copy of its own). */
  connection(): RedisClient;
  /** Where the queues are, as they were opened with: a worker per queue and consumed group (default: one Redis server's). */
  layout?: QueueLayout;
  /** Jobs each worker (one queue of one group) runs at once. */
  concurrency: number;
  /**
   * How long a job stays claimed by a worker that stopped renewing it (died) before another worker
   * runs it again: BullMQ's lockDuration and stalledInterval (default 30 s each).
   */
  claimMs?: number;
  /** Where job runs are logged, with the job's delivery, repository and commit. */
  log: Logger;
  /** Where job counts, durations, releases and plans are counted. */
  metrics?: Metrics;
  /** This process's queue of plans other workers hand it (see `PlanHandover`), and how it runs them. */
  handover?: {
    queue: string;
    prefix: QueuePrefix;
    run: (plan: HandedPlan) => Promise<HandedPlanResult>;
  };
}

/** How one queue's jobs run, are logged and are counted. */
interface QueueDefinition<T, R> {
  queue: string;
  /** The queue as metrics name it (default its name): one name for every process's queue of handed plans. */
  label?: string;
  /** The key prefixes it is consumed under (default: every group the layout consumes). */
  prefixes?: QueuePrefix[];
  /** Jobs one worker runs at once (default: the options' `concurrency`). */
  concurrency?: number;
  run: (request: T, attempt: Attempt, job: Job<T>, token: string) => Promise<R>;
  /** Log fields naming the job's work: delivery, repository, commit. */
  context: (request: T) => Record<string, unknown>;
  /** Counts what a completed job did. */
  record?: (result: R, seconds: number) => void;
}

/**
 * Starts one BullMQ worker per queue and group the layout consumes; `close` lets running jobs finish,
 * or, once Redis has not answered for {@link STOP_WITHOUT_REDIS_MS}, abandons them, closes at once
 * and rejects saying so.
 */
export function startWorkers(options: StartWorkersOptions): { close(): Promise<void> } {
  const { metrics } = options;
  const workers = [
    worker<DeployRequest, string[]>(
      {
        queue: DEPLOY_QUEUE,
        run: options.deploy,
        context: (r) => ({ delivery: r.deliveryId, repository: r.repo.fullName, sha: r.sha }),
      },
      options,
    ),
    worker<RolloutJobData, RolloutState>(
      {
        queue: ROLLOUT_QUEUE,
        run: (_data, _attempt, job, token) => options.rollout(job, token),
        context: (r) => ({ rollout: r.rolloutId }),
      },
      options,
    ),
    ...[RELEASE_QUEUE, AGENT_RELEASE_QUEUE].map((queue) =>
      worker<ReleaseJobData, ClusterOutcome["kind"]>(
        {
          queue,
          ...(queue === AGENT_RELEASE_QUEUE ? { concurrency: AGENT_RELEASES_AT_ONCE } : {}),
          run: options.release,
          context: (r) => ({ rollout: r.rolloutId, cluster: r.cluster }),
        },
        options,
      ),
    ),
    worker<PlanRequest, EnvironmentPlan[]>(
      {
        queue: PLAN_QUEUE,
        run: (request, attempt, job) => options.plan(request, attempt, job),
        context: (r) => ({ delivery: r.deliveryId, repository: r.repo.fullName, change: r.change, sha: r.headSha }),
        record: (plans, seconds) => metrics?.planned(plans, seconds),
      },
      options,
    ),
    worker<ReconcileJobData, ReconcileOutcome>(
      {
        queue: RECONCILE_QUEUE,
        run: options.reconcile,
        context: (r) => ({ repository: r.repo.fullName, environment: r.environment, cluster: r.cluster }),
        record: (outcome) => metrics?.reconciled(outcome),
      },
      options,
    ),
    worker<CommandRequest, unknown>(
      {
        queue: COMMAND_QUEUE,
        run: options.command,
        context: (r) => ({ delivery: r.deliveryId, repository: r.repo.fullName, change: r.change }),
      },
      options,
    ),
    // Plans handed over run here without being counted again: the handing worker's job counts them.
    ...(options.handover === undefined
      ? []
      : [
          worker<HandedPlan, HandedPlanResult>(
            {
              queue: options.handover.queue,
              label: HANDED_PLANS_LABEL,
              prefixes: [options.handover.prefix],
              run: options.handover.run,
              context: ({ request: r }) => ({ repository: r.repo.fullName, change: r.change, sha: r.headSha }),
            },
            options,
          ),
        ]),
  ];
  return {
    close: async () => {
      const closed = await Promise.allSettled(workers.map((w) => w.close()));
      const failed = closed.flatMap((c) => (c.status === "rejected" ? [c.reason as unknown] : []));
      if (failed.length === 1) throw failed[0];
      // Every queue's reason in the message, so the one log line says them all.
      const reasons = failed.map((e) => (e instanceof Error ? e.message : String(e)));
      if (failed.length > 1) throw new AggregateError(failed, reasons.join("; "));
    },
  };
}

/** A started worker and what closing it needs. */
interface RunningWorker {
  /** Lets running jobs finish (abandons them once Redis is away too long), then closes the worker and its connections. */
  close(): Promise<void>;
}

function worker<T, R>(definition: QueueDefinition<T, R>, options: StartWorkersOptions): RunningWorker {
  const { queue } = definition;
  const connection = options.connection();
  let running = 0;
  const prefixes = definition.prefixes ?? (options.layout ?? QueueLayout.single()).consumed();
  const workers = prefixes.map((prefix) => {
    const w = new Worker<T>(
      queue,
      async (job: Job<T>, token?: string) => {
        running++;
        try {
          return await runJob(job, token ?? "", definition, options);
        } finally {
          running--;
        }
      },
      {
        connection,
        concurrency: definition.concurrency ?? options.concurrency,
        ...(prefix !== undefined ? { prefix } : {}),
        ...(options.claimMs !== undefined ? { lockDuration: options.claimMs, stalledInterval: options.claimMs } : {}),
        maxStalledCount: MAX_STALLS,
      },
    );
    w.on("error", (error) => options.log.warn({ err: error, queue, prefix }, "worker connection error"));
    // A job whose worker died mid-run goes back to its queue (or fails after MAX_STALLS such returns).
    w.on("stalled", (jobId) =>
      options.log.warn({ queue, prefix, jobId }, "job stalled: its worker stopped; it runs again"),
    );
    return w;
  });
  return {
    close: async () => {
      // Take no new jobs, and let the running ones finish while Redis answers.
      await Promise.all(workers.map((w) => w.pause(true)));
      let redisAwaySince: number | undefined;
      while (running > 0) {
        redisAwaySince = connection.status === "ready" ? undefined : (redisAwaySince ?? Date.now());
        if (redisAwaySince !== undefined && Date.now() - redisAwaySince >= STOP_WITHOUT_REDIS_MS) {
          const abandoned = running;
          await Promise.all(workers.map((w) => w.close(true)));
          connection.disconnect();
          throw new Error(
            `Redis unreachable for ${STOP_WITHOUT_REDIS_MS / 1000} s while stopping: abandoned ${abandoned} running ` +
              `${queue} job(s); each runs again on another worker once its claim lapses`,
          );
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      // BullMQ's graceful close sends QUIT through Redis; while Redis is unreachable that never
      // returns, and with none of our jobs running there is nothing to wait for: close at once.
      await Promise.all(workers.map((w) => w.close(connection.status !== "ready")));
    },
  };
}

/** Runs one job: logs and counts it, and turns permanent errors into BullMQ's "do not retry". */
async function runJob<T, R>(
  job: Job<T>,
  token: string,
  definition: QueueDefinition<T, R>,
  options: StartWorkersOptions,
): Promise<R> {
  const { queue } = definition;
  const log = options.log.child({ queue, jobId: job.id, ...definition.context(job.data) });
  const attempt = { number: job.attemptsMade + 1, of: job.opts.attempts ?? 1 };
  // Queue latency: from the webhook's enqueue to a worker picking the job up, on its first run only (later runs wait out a backoff).
  const waited = attempt.number === 1 ? ((job.processedOn ?? Date.now()) - job.timestamp) / 1000 : undefined;
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  log.debug({ attempt: attempt.number }, "job started");
  try {
    const result = await definition.run(job.data, attempt, job, token);
    const took = seconds();
    options.metrics?.job(definition.label ?? queue, "completed", took, waited);
    definition.record?.(result, took);
    log.info({ attempt: attempt.number, seconds: round(took) }, "job completed");
    return result;
  } catch (error) {
    // A step job parked itself (waiting for its children, or delayed until a gate opens): not a failure.
    if (error instanceof DelayedError || error instanceof WaitingChildrenError) throw error;
    // Permanent errors fail the job at once; anything else is retried with backoff.
    const final = isPermanent(error) || attempt.number >= attempt.of;
    options.metrics?.job(definition.label ?? queue, final ? "failed" : "retrying", seconds(), waited);
    log.warn({ attempt: attempt.number, of: attempt.of, err: error }, final ? "job failed" : "job failed, will retry");
    if (isPermanent(error)) throw new UnrecoverableError((error as Error).message);
    throw error;
  }
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
