import { Queue, type JobsOptions } from "bullmq";
import type { Redis } from "ioredis";
import { DEPLOY_QUEUE, deployJobId, type DeployRequest } from "./deploy-request.js";
import { COMMAND_QUEUE, commandJobId, PLAN_QUEUE, planJobId, type CommandRequest, type PlanRequest } from "./plan-request.js";

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

  /** Opens the queues on one Redis connection. */
  constructor(connection: Redis) {
    this.deploy = new Queue<DeployRequest>(DEPLOY_QUEUE, { connection });
    this.plan = new Queue<PlanRequest>(PLAN_QUEUE, { connection });
    this.command = new Queue<CommandRequest>(COMMAND_QUEUE, { connection });
    for (const queue of [this.deploy, this.plan, this.command]) queue.on("error", () => undefined);
  }

  /** Queues a deploy once per (repository, branch, commit); resolves with the job id once Redis has it. */
  async enqueueDeploy(request: DeployRequest): Promise<string> {
    const jobId = deployJobId(request);
    await this.deploy.add("deploy", request, { ...JOB_OPTIONS, jobId });
    return jobId;
  }

  /**
   * Queues a plan once per (change, head commit, environment filter); `trigger` (a comment id)
   * makes a re-plan asked for by a comment command a job of its own.
   */
  async enqueuePlan(request: PlanRequest, trigger?: string): Promise<string> {
    const jobId = trigger ? `${planJobId(request)}-${trigger}` : planJobId(request);
    await this.plan.add("plan", request, { ...JOB_OPTIONS, jobId });
    return jobId;
  }

  /** Queues a comment command once per comment. */
  async enqueueCommand(request: CommandRequest): Promise<string> {
    const jobId = commandJobId(request);
    await this.command.add("command", request, { ...JOB_OPTIONS, jobId });
    return jobId;
  }

  /** Closes the queues (not the connection, which the caller owns). */
  async close(): Promise<void> {
    await Promise.all([this.deploy.close(), this.plan.close(), this.command.close()]);
  }
}
