import type { Queue } from "bullmq";

/** One job as `Queue.addBulk` takes it: name, data and options. */
export type BulkJob<T> = Parameters<Queue<T>["addBulk"]>[0][number];

/** A job waiting for the next batch, and the caller waiting for it. */
interface PendingJob<T> {
  job: BulkJob<T>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Adds jobs to one queue in batches: every add made while the event loop handles one round of
 * I/O (webhooks arriving together) goes to Redis as one `addBulk`, a single pipelined write, and
 * each caller resolves once Redis has acknowledged the whole batch. If any add fails, every caller
 * of the batch is rejected (answered 503, so the forge redelivers; job ids make that harmless).
 *
 * Why: under a burst of deliveries the intake's cost per job was dominated by one socket write and
 * one Redis wake-up per job; a batch pays them once. Nothing is acknowledged earlier than before,
 * and a lone delivery waits only until the end of the current loop turn (`setImmediate`).
 */
export class JobBatcher<T> {
  private pending: Array<PendingJob<T>> = [];

  /** Batches adds to `queue`. */
  constructor(private readonly queue: Queue<T>) {}

  /** Adds a job; resolves once Redis holds it (a job id already present counts, as with `Queue.add`). */
  add(job: BulkJob<T>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => void this.flush());
      this.pending.push({ job, resolve, reject });
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    try {
      const [single] = batch;
      // A lone job skips the pipeline, which costs more than the one command it would carry.
      if (batch.length === 1 && single !== undefined) await this.queue.add(single.job.name, single.job.data, single.job.opts);
      else await this.queue.addBulk(batch.map((pending) => pending.job));
      for (const pending of batch) pending.resolve();
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    }
  }
}
