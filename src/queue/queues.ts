import { Queue, type Job, type JobsOptions } from "bullmq";
import type { QueueCounts } from "../metrics/metrics.js";
import { QUEUE_STATES } from "../metrics/metrics.js";
import { DEPLOY_QUEUE, deployJobId } from "./deploy-request.js";
import type { DeployRequest } from "../domain/requests.js";
import type { RepoRef } from "../domain/repo.js";
import { JobBatcher } from "./job-batcher.js";
import { COMMAND_QUEUE, commandJobId, PLAN_QUEUE, planJobId } from "./plan-request.js";
import type { CommandRequest, PlanRequest } from "../domain/requests.js";
import { RECONCILE_QUEUE, reconcileSchedulerId, type ReconcileJobData } from "./reconcile-request.js";
import type { RedisClient } from "./redis-connection.js";

/** How long an intake job's id is remembered, so a redelivered webhook queues nothing: a week. */
export const DEDUPE_WINDOW_MS = 7 * 24 * 3600 * 1000;

/** Retries with exponential backoff (2 s, 4 s, 8 s ... about 4 minutes in all), then the job fails. */
const JOB_OPTIONS: JobsOptions = {
  attempts: 8,
  backoff: { type: "exponential", delay: 2000 },
  // Finished jobs are for looking at (the dashboard), bounded in count as well as age: a week or the
  // last 10,000, whichever is fewer. Deduplication does not rest on them (see intakeOptions).
  removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
  removeOnFail: { age: 30 * 24 * 3600 },
};

/**
 * Options of a job the intake queues under `jobId`. Besides the job itself, BullMQ keeps a key of
 * its own per id (`<prefix>:<queue>:de:<jobId>`, a few dozen bytes) that expires after
 * {@link DEDUPE_WINDOW_MS}: an add with an id seen in that window is dropped even when the job's
 * record is gone, which happens sooner under load (only the last 10,000 finished jobs are kept).
 * Removing the job by hand (the dashboard) removes its key too, so the next delivery runs.
 */
function intakeOptions(jobId: string): JobsOptions {
  return { ...JOB_OPTIONS, jobId, deduplication: { id: jobId, ttl: DEDUPE_WINDOW_MS } };
}

/** How long a re-plan after a release waits for more releases of the branch to join it. */
export const REFRESH_DELAY_MS = 2_000;

/**
 * A reconcile is tried three times (2 s, 4 s): the next run comes at the next interval anyway, and
 * only its failure is kept, for a day.
 */
const RECONCILE_JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: "exponential", delay: 2000 },
  removeOnComplete: { count: 1000 },
  removeOnFail: { age: 24 * 3600, count: 1000 },
} satisfies JobsOptions;

/** How long a reconcile a watched change asks for waits for more changes to join it. */
export const WATCH_DEBOUNCE_MS = 2_000;

/** Name of the queue of rollouts: one job per (environment, commit), the parent of its clusters' release jobs. */
export const ROLLOUT_QUEUE = "ferry-rollout";

/** Name of the queue of cluster releases: one job per (rollout, cluster). */
export const RELEASE_QUEUE = "ferry-release";

/** A rollout job's data. */
export interface RolloutJobData {
  rolloutId: string;
}

/** A cluster release job's data. */
export interface ReleaseJobData {
  rolloutId: string;
  cluster: string;
  /** Index of the cluster's wave. */
  wave: number;
}

/** How often a cluster's release is tried, and its backoff: the deploy job's own, so one budget governs a merge. */
export type RetryBudget = Pick<JobsOptions, "attempts" | "backoff">;

/** Ferry's queues, for the side that adds jobs (the web role, and the worker for comment commands). */
export class Queues {
  private readonly deploy: Queue<DeployRequest>;
  private readonly plan: Queue<PlanRequest>;
  private readonly command: Queue<CommandRequest>;
  private readonly rollout: Queue<RolloutJobData>;
  private readonly release: Queue<ReleaseJobData>;
  private readonly reconcile: Queue<ReconcileJobData>;
  // Adds go through batchers: a burst of webhooks is one Redis write per queue and loop turn (see JobBatcher).
  private readonly deployAdds: JobBatcher<DeployRequest>;
  private readonly planAdds: JobBatcher<PlanRequest>;
  private readonly commandAdds: JobBatcher<CommandRequest>;

  /** Opens the queues on one Redis connection; `prefix` is BullMQ's key prefix (a hash tag on a Redis Cluster). */
  constructor(connection: RedisClient, options: { prefix?: string } = {}) {
    const settings = { connection, ...(options.prefix !== undefined ? { prefix: options.prefix } : {}) };
    this.deploy = new Queue<DeployRequest>(DEPLOY_QUEUE, settings);
    this.plan = new Queue<PlanRequest>(PLAN_QUEUE, settings);
    this.command = new Queue<CommandRequest>(COMMAND_QUEUE, settings);
    this.rollout = new Queue<RolloutJobData>(ROLLOUT_QUEUE, settings);
    this.release = new Queue<ReleaseJobData>(RELEASE_QUEUE, settings);
    this.reconcile = new Queue<ReconcileJobData>(RECONCILE_QUEUE, settings);
    for (const queue of this.all()) queue.on("error", () => undefined);
    this.deployAdds = new JobBatcher(this.deploy);
    this.planAdds = new JobBatcher(this.plan);
    this.commandAdds = new JobBatcher(this.command);
  }

  /** Every queue, for the dashboard. */
  all(): Queue[] {
    return [this.deploy, this.plan, this.command, this.rollout, this.release, this.reconcile];
  }

  /** How many jobs each queue holds in each state of `QUEUE_STATES`, for the queue-depth metric. */
  async jobCounts(): Promise<QueueCounts> {
    const counts = await Promise.all(
      this.all().map(async (queue) => [queue.name, await queue.getJobCounts(...QUEUE_STATES)] as const),
    );
    return Object.fromEntries(counts);
  }

  /** Queues a deploy once per (repository, branch, commit) in {@link DEDUPE_WINDOW_MS}; resolves with the job id once Redis has it. */
  async enqueueDeploy(request: DeployRequest): Promise<string> {
    const jobId = deployJobId(request);
    await this.deployAdds.add({ name: "deploy", data: request, opts: intakeOptions(jobId) });
    return jobId;
  }

  /**
   * Queues `request` again to run at `until`, when the freeze that held it back ends (a freeze
   * extended meanwhile holds it again, under another id); resolves with the job id.
   */
  async enqueueHeldDeploy(request: DeployRequest, until: number): Promise<string> {
    const jobId = `held-${until}-${deployJobId(request)}`;
    const held = { ...request, heldBack: true };
    await this.deploy.add("deploy", held, { ...JOB_OPTIONS, jobId, delay: Math.max(0, until - Date.now()) });
    return jobId;
  }

  /** Queues a deploy an admin's `/ferry deploy <env> --override-freeze` asked for, one per comment. */
  async enqueueOverride(request: DeployRequest, commentId: number): Promise<string> {
    const jobId = `override-${commentId}-${deployJobId(request)}`;
    await this.deploy.add("deploy", request, { ...JOB_OPTIONS, jobId });
    return jobId;
  }

  /** Runs held-back deploy `jobId` now (the freeze ended early); nothing when it already ran. */
  async releaseHeldDeploy(jobId: string): Promise<void> {
    const job = await this.deploy.getJob(jobId);
    if (job && (await job.isDelayed())) await job.promote().catch(() => undefined);
  }

  /**
   * Queues a deploy a reconcile asks for, unless a deploy of the same (repository, branch, commit) is
   * already known (a webhook's, or an earlier reconcile's); true when it queued one.
   */
  async enqueueCatchUp(request: DeployRequest): Promise<boolean> {
    if (await this.deploy.getJob(deployJobId(request))) return false;
    await this.enqueueDeploy(request);
    return true;
  }

  /**
   * Queues a plan once per (change, head commit, environment filter) in {@link DEDUPE_WINDOW_MS}; `trigger` (a comment id)
   * makes a re-plan asked for by a comment command a job of its own.
   */
  async enqueuePlan(request: PlanRequest, trigger?: string): Promise<string> {
    const jobId = trigger ? `${planJobId(request)}-${trigger}` : planJobId(request);
    await this.planAdds.add({ name: "plan", data: request, opts: intakeOptions(jobId) });
    return jobId;
  }

  /**
   * Queues re-plans of open changes after a release of their base branch, debounced: each change's
   * re-plan waits {@link REFRESH_DELAY_MS}, one waiting per change at a time (later asks join it),
   * and one asked while it runs runs once more after it, so the last release is always planned against.
   */
  async refreshPlans(requests: PlanRequest[]): Promise<void> {
    if (requests.length === 0) return;
    await this.plan.addBulk(
      requests.map((request) => ({
        name: "plan",
        data: { ...request, refresh: true },
        opts: {
          ...JOB_OPTIONS,
          delay: REFRESH_DELAY_MS,
          deduplication: {
            id: `refresh-${planJobId({ ...request, headSha: "", environment: undefined })}`,
            keepLastIfActive: true,
          },
        },
      })),
    );
  }

  /** Queues a comment command once per comment (in {@link DEDUPE_WINDOW_MS}). */
  async enqueueCommand(request: CommandRequest): Promise<string> {
    const jobId = commandJobId(request);
    await this.commandAdds.add({ name: "command", data: request, opts: intakeOptions(jobId) });
    return jobId;
  }

  /** Starts a rollout's job (once per rollout). */
  async startRollout(rolloutId: string, retry: RetryBudget = {}): Promise<void> {
    await this.rollout.add("rollout", { rolloutId }, { ...JOB_OPTIONS, ...retry, jobId: rolloutJobId(rolloutId) });
  }

  /**
   * Queues the release of clusters as children of their rollout's job, which runs again once they
   * all finished. Ids are per (rollout, cluster), so a rollout step that runs twice adds each once.
   */
  async addReleases(
    parent: Job,
    releases: Array<ReleaseJobData & { index: number }>,
    retry: RetryBudget = {},
  ): Promise<void> {
    if (releases.length === 0) return;
    const parentRef = { id: parent.id ?? "", queue: parent.queueQualifiedName };
    await this.release.addBulk(
      releases.map(({ index, ...data }) => ({
        name: "release",
        data,
        // A finished release is kept in the rollout's state, not as a job: at 10,000 clusters the
        // jobs would hold most of a rollout's memory. A step that adds a finished cluster again is
        // answered by its stored outcome.
        opts: {
          ...JOB_OPTIONS,
          ...retry,
          removeOnComplete: true,
          jobId: `release-${data.rolloutId}-${index}`,
          parent: parentRef,
          ignoreDependencyOnFailure: true,
        },
      })),
    );
  }

  /** Wakes a rollout's job that waits out a pause or an approval, so it looks at its gate again now. */
  async wakeRollout(rolloutId: string): Promise<void> {
    const job = await this.rollout.getJob(rolloutJobId(rolloutId));
    if (job && (await job.isDelayed())) await job.promote().catch(() => undefined);
  }

  /**
   * Reconciles one environment on one cluster every `data.everyMs` with BullMQ's job scheduler, whose
   * id is derived from (repository, environment, cluster): a later call updates its interval and data.
   * The scheduler makes the next job only once the last one started, so runs never pile up.
   */
  async scheduleReconcile(data: ReconcileJobData): Promise<void> {
    const id = reconcileSchedulerId(data.repo, data.environment, data.cluster);
    await this.reconcile.upsertJobScheduler(
      id,
      { every: data.everyMs },
      { name: "reconcile", data, opts: RECONCILE_JOB_OPTIONS },
    );
  }

  /**
   * Reconciles one environment on one cluster soon, as a watched change asks: after
   * {@link WATCH_DEBOUNCE_MS}, and once for every change within that time (BullMQ deduplication).
   */
  async reconcileSoon(data: ReconcileJobData): Promise<void> {
    const id = `watch-${reconcileSchedulerId(data.repo, data.environment, data.cluster)}`;
    await this.reconcile.add("reconcile", data, {
      ...RECONCILE_JOB_OPTIONS,
      delay: WATCH_DEBOUNCE_MS,
      deduplication: { id, ttl: WATCH_DEBOUNCE_MS },
    });
  }

  /** The reconciles scheduled for a repository's branch (every environment and cluster it deploys to). */
  async reconcileSchedules(repo: RepoRef, branch: string): Promise<ReconcileJobData[]> {
    const found: ReconcileJobData[] = [];
    const page = 500;
    for (let start = 0; ; start += page) {
      const schedulers = await this.reconcile.getJobSchedulers(start, start + page - 1, true);
      for (const s of schedulers) {
        const data = s.template?.data;
        if (data && data.repo.forge === repo.forge && data.repo.fullName === repo.fullName && data.branch === branch)
          found.push(data);
      }
      if (schedulers.length < page) return found;
    }
  }

  /** Stops reconciling one environment on one cluster; true when it was scheduled. */
  async unscheduleReconcile(repo: RepoRef, environment: string, cluster: string): Promise<boolean> {
    return this.reconcile.removeJobScheduler(reconcileSchedulerId(repo, environment, cluster));
  }

  /** Closes the queues (not the connection, which the caller owns). */
  async close(): Promise<void> {
    await Promise.all(this.all().map((queue) => queue.close()));
  }
}

/** The job id of a rollout. */
export function rolloutJobId(rolloutId: string): string {
  return `rollout-${rolloutId}`;
}
