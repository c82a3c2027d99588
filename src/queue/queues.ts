import { Queue, type JobsOptions } from "bullmq";
import type { QueueCounts } from "../metrics/metrics.js";
import { QUEUE_STATES } from "../metrics/metrics.js";
import { DEPLOY_QUEUE, deployJobId } from "./deploy-request.js";
import type { DeployRequest } from "../domain/requests.js";
import { JobBatcher } from "./job-batcher.js";
import { COMMAND_QUEUE, commandJobId, PLAN_QUEUE, planJobId } from "./plan-request.js";
import type { CommandRequest, PlanRequest } from "../domain/requests.js";
import type { RedisClient } from "./redis-connection.js";

/** Retries with exponential backoff (2 s, 4 s, 8 s ... about 4 minutes in all), then the job fails. */
const JOB_OPTIONS: JobsOptions = {
  attempts: 8,
  backoff: { type: "exponential", delay: 2000 },
  // Finished jobs are kept for a week so their ids keep deduplicating redelivered webhooks.
  removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
  removeOnFail: { age: 30 * 24 * 3600 },
};

/** Ferry's queues, for the side that adds jobs (the web role, and the worker for comment commands). */
export class Queues {
  private readonly deploy: Queue<DeployRequest>;
  private readonly plan: Queue<PlanRequest>;
  private readonly command: Queue<CommandRequest>;
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
    for (const queue of this.all()) queue.on("error", () => undefined);
    this.deployAdds = new JobBatcher(this.deploy);
    this.planAdds = new JobBatcher(this.plan);
    this.commandAdds = new JobBatcher(this.command);
  }

  /** Every queue, for the dashboard. */
  all(): Queue[] {
    return [this.deploy, this.plan, this.command];
  }

  /** How many jobs each queue holds in each state of `QUEUE_STATES`, for the queue-depth metric. */
  async jobCounts(): Promise<QueueCounts> {
    const counts = await Promise.all(this.all().map(async (queue) => [queue.name, await queue.getJobCounts(...QUEUE_STATES)] as const));
    return Object.fromEntries(counts);
  }

  /** Queues a deploy once per (repository, branch, commit); resolves with the job id once Redis has it. */
  async enqueueDeploy(request: DeployRequest): Promise<string> {
    const jobId = deployJobId(request);
    await this.deployAdds.add({ name: "deploy", data: request, opts: { ...JOB_OPTIONS, jobId } });
    return jobId;
  }

  /**
   * Queues a plan once per (change, head commit, environment filter); `trigger` (a comment id)
   * makes a re-plan asked for by a comment command a job of its own.
   */
  async enqueuePlan(request: PlanRequest, trigger?: string): Promise<string> {
    const jobId = trigger ? `${planJobId(request)}-${trigger}` : planJobId(request);
    await this.planAdds.add({ name: "plan", data: request, opts: { ...JOB_OPTIONS, jobId } });
    return jobId;
  }

  /** Queues a comment command once per comment. */
  async enqueueCommand(request: CommandRequest): Promise<string> {
    const jobId = commandJobId(request);
    await this.commandAdds.add({ name: "command", data: request, opts: { ...JOB_OPTIONS, jobId } });
    return jobId;
  }

  /** Closes the queues (not the connection, which the caller owns). */
  async close(): Promise<void> {
    await Promise.all(this.all().map((queue) => queue.close()));
  }
}
