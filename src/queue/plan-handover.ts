import { createHash } from "node:crypto";
import { Queue, type Job } from "bullmq";
import type { PlanRequest } from "../domain/requests.js";
import type { Attempt } from "../jobs/release-deps.js";
import type { EnvironmentPlan } from "../plan/types.js";
import type { QueueLayout, QueuePrefix } from "./queue-layout.js";
import type { RedisClient } from "./redis-connection.js";

/** A plan handed to the worker whose watch caches hold its collections. */
export interface HandedPlan {
  request: PlanRequest;
  /** The attempt the handing worker was on: the holder plans as that attempt, never as the last. */
  attempt: Attempt;
}

/**
 * What the holder's run of a handed plan returns: its plans, or why it could not plan (the holder
 * reported a permanent failure itself; a transient one left the statuses pending for the fallback).
 */
export type HandedPlanResult = { plans: EnvironmentPlan[] } | { error: string; permanent: boolean };

/** How following a handed plan ended. */
export type HandoverOutcome =
  /** The holder planned it (and reported it). */
  | { kind: "planned"; plans: EnvironmentPlan[] }
  /** The holder found it permanently unplannable, and said so on the forge. */
  | { kind: "refused"; error: string }
  /** It was removed before the holder ran it to the end: the handing worker plans it itself. */
  | { kind: "not_taken" | "stalled" | "failed"; why: string };

/** What {@link PlanHandover.handOver} waits for. */
export interface HandoverTiming {
  /** How long the holder may leave the plan waiting before it is taken back (default 3 s). */
  takeMs?: number;
  /** Longest pause between looks at the job (default 200 ms). */
  maxPollMs?: number;
}

/** The queue of plans handed to the worker process `owner` (as watch leases name it). */
export function handoverQueueName(owner: string): string {
  return `ferry-plan-at-${createHash("sha256").update(owner).digest("hex").slice(0, 16)}`;
}

/**
 * Each worker process consumes a queue of plans of its own ({@link handoverQueueName}), in the group
 * of the layout its owner id hashes to (on a Redis Cluster a group's prefix is one hash tag, so the
 * queue's keys share a slot). A worker whose plan's collections another worker caches puts the plan
 * there and follows it: the job is removed, and the plan is the handing worker's again, when the
 * holder does not take it within `takeMs`, when its claim lapses (the holder died: nobody else
 * consumes its queue, so nothing would ever run it again), or when it fails. Removing is atomic with
 * respect to the holder taking the job, so a plan is run to its end by one of them only.
 */
export class PlanHandover {
  /** Binds the handover to the connection and layout the queues were opened with. */
  constructor(
    private readonly connection: RedisClient,
    private readonly layout: QueueLayout,
  ) {}

  /** The key prefix of `owner`'s handover queue. */
  prefixOf(owner: string): QueuePrefix {
    return this.layout.groups[this.layout.groupOf(`worker:${owner}`)];
  }

  /**
   * Hands `plan` to `owner` under `jobId` (a job of that id already there, from an earlier run of
   * the same plan job, is followed instead of added again) and follows it to its end.
   */
  async handOver(
    owner: string,
    jobId: string,
    plan: HandedPlan,
    timing: HandoverTiming = {},
  ): Promise<HandoverOutcome> {
    const prefix = this.prefixOf(owner);
    const queue = new Queue<HandedPlan, HandedPlanResult>(handoverQueueName(owner), {
      connection: this.connection,
      ...(prefix !== undefined ? { prefix } : {}),
    });
    queue.on("error", () => undefined);
    try {
      if (!(await queue.getJob(jobId)))
        await queue.add("plan", plan, { jobId, attempts: 1, removeOnComplete: false, removeOnFail: false });
      return await this.follow(queue, jobId, timing);
    } finally {
      await queue.close();
    }
  }

  private async follow(
    queue: Queue<HandedPlan, HandedPlanResult>,
    jobId: string,
    timing: HandoverTiming,
  ): Promise<HandoverOutcome> {
    const since = Date.now();
    const takeMs = timing.takeMs ?? 3_000;
    const lockKey = `${queue.toKey(jobId)}:lock`;
    for (let pollMs = 50; ; pollMs = Math.min(pollMs * 2, timing.maxPollMs ?? 200)) {
      const job = await queue.getJob(jobId);
      if (!job) return { kind: "failed", why: "the handed plan's job is gone (removed by hand?)" };
      if (job.finishedOn !== undefined) return finished(job);
      if (job.processedOn === undefined) {
        if (Date.now() - since > takeMs && (await removed(job)))
          return { kind: "not_taken", why: `the holder did not take it within ${takeMs} ms` };
      } else if ((await this.connection.exists(lockKey)) === 0) {
        // No claim on a running job: the holder died. Look once more, in case it finished in between.
        const again = await queue.getJob(jobId);
        if (again?.finishedOn !== undefined) return finished(again);
        if (!again || (await removed(again))) return { kind: "stalled", why: "the holder stopped (its claim lapsed)" };
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }
}

/** The outcome of a finished handed plan; its job removed, since its result now lives on in the caller's. */
async function finished(job: Job<HandedPlan, HandedPlanResult>): Promise<HandoverOutcome> {
  await job.remove().catch(() => undefined);
  const result = job.returnvalue as HandedPlanResult | null | undefined;
  if (job.failedReason || !result) return { kind: "failed", why: job.failedReason || "it finished without a result" };
  if ("plans" in result) return { kind: "planned", plans: result.plans };
  if (result.permanent) return { kind: "refused", error: result.error };
  return { kind: "failed", why: result.error };
}

/** Removes a job nobody holds a claim on; false when a worker holds it (BullMQ refuses then). */
async function removed(job: Job): Promise<boolean> {
  try {
    await job.remove();
    return true;
  } catch {
    return false;
  }
}
