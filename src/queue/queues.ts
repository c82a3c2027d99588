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
import { QueueLayout, type QueuePrefix } from "./queue-layout.js";
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

/**
 * Name of the queue of agent clusters' releases: one job per (rollout, cluster), as in
 * {@link RELEASE_QUEUE}, but the job only hands the release to the cluster's agent and follows it,
 * so workers run many of them at once (see `AGENT_RELEASES_AT_ONCE`) without taking a slot of the
 * releases they make themselves.
 */
export const AGENT_RELEASE_QUEUE = "ferry-agent-release";

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

/** One group's full set of Ferry's queues, under one key prefix. */
class QueueGroup {
  readonly deploy: Queue<DeployRequest>;
  readonly plan: Queue<PlanRequest>;
  readonly command: Queue<CommandRequest>;
  readonly rollout: Queue<RolloutJobData>;
  readonly release: Queue<ReleaseJobData>;
  readonly agentRelease: Queue<ReleaseJobData>;
  readonly reconcile: Queue<ReconcileJobData>;
  // Adds go through batchers: a burst of webhooks is one Redis write per queue and loop turn (see JobBatcher).
  readonly deployAdds: JobBatcher<DeployRequest>;
  readonly planAdds: JobBatcher<PlanRequest>;
  readonly commandAdds: JobBatcher<CommandRequest>;

  constructor(connection: RedisClient, prefix: QueuePrefix) {
    const settings = { connection, ...(prefix !== undefined ? { prefix } : {}) };
    this.deploy = new Queue<DeployRequest>(DEPLOY_QUEUE, settings);
    this.plan = new Queue<PlanRequest>(PLAN_QUEUE, settings);
    this.command = new Queue<CommandRequest>(COMMAND_QUEUE, settings);
    this.rollout = new Queue<RolloutJobData>(ROLLOUT_QUEUE, settings);
    this.release = new Queue<ReleaseJobData>(RELEASE_QUEUE, settings);
    this.agentRelease = new Queue<ReleaseJobData>(AGENT_RELEASE_QUEUE, settings);
    this.reconcile = new Queue<ReconcileJobData>(RECONCILE_QUEUE, settings);
    for (const queue of this.all()) queue.on("error", () => undefined);
    this.deployAdds = new JobBatcher(this.deploy);
    this.planAdds = new JobBatcher(this.plan);
    this.commandAdds = new JobBatcher(this.command);
  }

  all(): Queue[] {
    return [this.deploy, this.plan, this.command, this.rollout, this.release, this.agentRelease, this.reconcile];
  }
}

/**
 * Ferry's queues, for the side that adds jobs (the web role, and the worker for comment commands).
 * A job goes to the group of its {@link QueueLayout} that its routing key hashes to: deploys, plans
 * and commands by repository (so a repository's dedupe ids are looked up where its jobs are), a
 * rollout by its id, a cluster's release in its rollout's group (BullMQ keeps a parent and its
 * children on one slot), reconciles by cluster. Lookups by id look in the id's group, then in the
 * groups the layout drains.
 */
export class Queues {
  private readonly groups: QueueGroup[];
  private readonly draining: QueueGroup[];

  /** Opens the queues of every group of `layout` (default: one Redis server's single group) on one connection. */
  constructor(
    connection: RedisClient,
    private readonly layout: QueueLayout = QueueLayout.single(),
  ) {
    this.groups = layout.groups.map((prefix) => new QueueGroup(connection, prefix));
    this.draining = layout.draining.map((prefix) => new QueueGroup(connection, prefix));
  }

  /** Every queue of every group, for the dashboard. */
  all(): Queue[] {
    return [...this.groups, ...this.draining].flatMap((group) => group.all());
  }

  /** How many jobs each queue holds in each state of `QUEUE_STATES`, summed over the groups, for the queue-depth metric. */
  async jobCounts(): Promise<QueueCounts> {
    const counts: QueueCounts = {};
    const each = await Promise.all(
      this.all().map(async (queue) => [queue.name, await queue.getJobCounts(...QUEUE_STATES)] as const),
    );
    for (const [name, states] of each) {
      const sum = (counts[name] ??= {});
      for (const [state, n] of Object.entries(states)) sum[state] = (sum[state] ?? 0) + n;
    }
    return counts;
  }

  /** Queues a deploy once per (repository, branch, commit) in {@link DEDUPE_WINDOW_MS}; resolves with the job id once Redis has it. */
  async enqueueDeploy(request: DeployRequest): Promise<string> {
    const jobId = deployJobId(request);
    await this.ofRepo(request.repo).deployAdds.add({ name: "deploy", data: request, opts: intakeOptions(jobId) });
    return jobId;
  }

  /**
   * Queues `request` again to run at `until`, when the freeze that held it back ends (a freeze
   * extended meanwhile holds it again, under another id); resolves with the job id.
   */
  async enqueueHeldDeploy(request: DeployRequest, until: number): Promise<string> {
    const jobId = `held-${until}-${deployJobId(request)}`;
    const held = { ...request, heldBack: true };
    await this.ofRepo(request.repo).deploy.add("deploy", held, {
      ...JOB_OPTIONS,
      jobId,
      delay: Math.max(0, until - Date.now()),
    });
    return jobId;
  }

  /** Queues a deploy an admin's `/ferry deploy <env> --override-freeze` asked for, one per comment. */
  async enqueueOverride(request: DeployRequest, commentId: number): Promise<string> {
    const jobId = `override-${commentId}-${deployJobId(request)}`;
    await this.ofRepo(request.repo).deploy.add("deploy", request, { ...JOB_OPTIONS, jobId });
    return jobId;
  }

  /** Runs `repo`'s held-back deploy `jobId` now (the freeze ended early); nothing when it already ran. */
  async releaseHeldDeploy(repo: RepoRef, jobId: string): Promise<void> {
    const job = await this.find((group) => group.deploy, this.ofRepo(repo), jobId);
    if (job && (await job.isDelayed())) await job.promote().catch(() => undefined);
  }

  /**
   * Queues a deploy a reconcile asks for, unless a deploy of the same (repository, branch, commit) is
   * already known (a webhook's, or an earlier reconcile's); true when it queued one.
   */
  async enqueueCatchUp(request: DeployRequest): Promise<boolean> {
    if (await this.find((group) => group.deploy, this.ofRepo(request.repo), deployJobId(request))) return false;
    await this.enqueueDeploy(request);
    return true;
  }

  /**
   * Queues a plan once per (change, head commit, environment filter) in {@link DEDUPE_WINDOW_MS}; `trigger` (a comment id)
   * makes a re-plan asked for by a comment command a job of its own.
   */
  async enqueuePlan(request: PlanRequest, trigger?: string): Promise<string> {
    const jobId = trigger ? `${planJobId(request)}-${trigger}` : planJobId(request);
    await this.ofRepo(request.repo).planAdds.add({ name: "plan", data: request, opts: intakeOptions(jobId) });
    return jobId;
  }

  /**
   * Queues re-plans of open changes after a release of their base branch, debounced: each change's
   * re-plan waits {@link REFRESH_DELAY_MS}, one waiting per change at a time (later asks join it),
   * and one asked while it runs runs once more after it, so the last release is always planned against.
   */
  async refreshPlans(requests: PlanRequest[]): Promise<void> {
    const byGroup = new Map<QueueGroup, PlanRequest[]>();
    for (const request of requests) {
      const group = this.ofRepo(request.repo);
      byGroup.set(group, [...(byGroup.get(group) ?? []), request]);
    }
    for (const [group, some] of byGroup)
      await group.plan.addBulk(
        some.map((request) => ({
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
    await this.ofRepo(request.repo).commandAdds.add({ name: "command", data: request, opts: intakeOptions(jobId) });
    return jobId;
  }

  /** Starts a rollout's job (once per rollout). */
  async startRollout(rolloutId: string, retry: RetryBudget = {}): Promise<void> {
    await this.ofRollout(rolloutId).rollout.add(
      "rollout",
      { rolloutId },
      { ...JOB_OPTIONS, ...retry, jobId: rolloutJobId(rolloutId) },
    );
  }

  /**
   * Queues the release of clusters as children of their rollout's job, in that job's group, which
   * runs again once they all finished; agent clusters' releases (`agent`) in the group's
   * {@link AGENT_RELEASE_QUEUE}. Ids are per (rollout, cluster), so a rollout step that runs twice
   * adds each once.
   */
  async addReleases(
    parent: Job,
    releases: Array<ReleaseJobData & { index: number; agent?: boolean }>,
    retry: RetryBudget = {},
  ): Promise<void> {
    if (releases.length === 0) return;
    const group = [...this.groups, ...this.draining].find((g) => g.rollout.qualifiedName === parent.queueQualifiedName);
    if (!group)
      throw new Error(`rollout job ${parent.id ?? ""} is in ${parent.queueQualifiedName}, no queue of Ferry's`);
    const parentRef = { id: parent.id ?? "", queue: parent.queueQualifiedName };
    const add = async (queue: Queue<ReleaseJobData>, some: typeof releases) => {
      if (some.length === 0) return;
      await queue.addBulk(
        some.map(({ index, agent: _, ...data }) => ({
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
    };
    await add(
      group.release,
      releases.filter((r) => r.agent !== true),
    );
    await add(
      group.agentRelease,
      releases.filter((r) => r.agent === true),
    );
  }

  /** Wakes a rollout's job that waits out a pause or an approval, so it looks at its gate again now. */
  async wakeRollout(rolloutId: string): Promise<void> {
    const job = await this.find((group) => group.rollout, this.ofRollout(rolloutId), rolloutJobId(rolloutId));
    if (job && (await job.isDelayed())) await job.promote().catch(() => undefined);
  }

  /**
   * Reconciles one environment on one cluster every `data.everyMs` with BullMQ's job scheduler, whose
   * id is derived from (repository, environment, cluster): a later call updates its interval and data.
   * The scheduler makes the next job only once the last one started, so runs never pile up. A
   * scheduler of the same id in a drained group is removed: it moves to its cluster's group.
   */
  async scheduleReconcile(data: ReconcileJobData): Promise<void> {
    const id = reconcileSchedulerId(data.repo, data.environment, data.cluster);
    await this.ofCluster(data.cluster).reconcile.upsertJobScheduler(
      id,
      { every: data.everyMs },
      { name: "reconcile", data, opts: RECONCILE_JOB_OPTIONS },
    );
    for (const group of this.draining) await group.reconcile.removeJobScheduler(id);
  }

  /**
   * Reconciles one environment on one cluster soon, as a watched change asks: after
   * {@link WATCH_DEBOUNCE_MS}, and once for every change within that time (BullMQ deduplication).
   */
  async reconcileSoon(data: ReconcileJobData): Promise<void> {
    const id = `watch-${reconcileSchedulerId(data.repo, data.environment, data.cluster)}`;
    await this.ofCluster(data.cluster).reconcile.add("reconcile", data, {
      ...RECONCILE_JOB_OPTIONS,
      delay: WATCH_DEBOUNCE_MS,
      deduplication: { id, ttl: WATCH_DEBOUNCE_MS },
    });
  }

  /** The reconciles scheduled for a repository's branch (every environment and cluster it deploys to), in every group. */
  async reconcileSchedules(repo: RepoRef, branch: string): Promise<ReconcileJobData[]> {
    const found: ReconcileJobData[] = [];
    const page = 500;
    for (const group of [...this.groups, ...this.draining]) {
      for (let start = 0; ; start += page) {
        const schedulers = await group.reconcile.getJobSchedulers(start, start + page - 1, true);
        for (const s of schedulers) {
          const data = s.template?.data;
          if (data && data.repo.forge === repo.forge && data.repo.fullName === repo.fullName && data.branch === branch)
            found.push(data);
        }
        if (schedulers.length < page) break;
      }
    }
    return found;
  }

  /** Stops reconciling one environment on one cluster; true when it was scheduled. */
  async unscheduleReconcile(repo: RepoRef, environment: string, cluster: string): Promise<boolean> {
    const id = reconcileSchedulerId(repo, environment, cluster);
    let removed = false;
    for (const group of [this.ofCluster(cluster), ...this.draining])
      removed = (await group.reconcile.removeJobScheduler(id)) || removed;
    return removed;
  }

  /** Closes the queues (not the connection, which the caller owns). */
  async close(): Promise<void> {
    await Promise.all(this.all().map((queue) => queue.close()));
  }

  private ofRepo(repo: RepoRef): QueueGroup {
    return this.group(`repo:${repo.forge}:${repo.fullName}`);
  }

  private ofRollout(rolloutId: string): QueueGroup {
    return this.group(`rollout:${rolloutId}`);
  }

  private ofCluster(cluster: string): QueueGroup {
    return this.group(`cluster:${cluster}`);
  }

  private group(routingKey: string): QueueGroup {
    return this.groups[this.layout.groupOf(routingKey)] as QueueGroup;
  }

  /** Job `id` of one queue, looked for in `home` and then in the drained groups. */
  private async find<T>(
    queue: (group: QueueGroup) => Queue<T>,
    home: QueueGroup,
    id: string,
  ): Promise<Job<T> | undefined> {
    for (const group of [home, ...this.draining]) {
      const job = await queue(group).getJob(id);
      if (job) return job;
    }
    return undefined;
  }
}

/** The job id of a rollout. */
export function rolloutJobId(rolloutId: string): string {
  return `rollout-${rolloutId}`;
}
