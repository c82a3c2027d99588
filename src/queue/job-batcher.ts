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
 * Adds jobs to one queue in batches, as a database commits a group: at most one write to Redis is
 * in flight per queue; adds made while it is (webhooks arriving together) wait and go as the next
 * `addBulk`, a single pipelined write, and each caller resolves once Redis has acknowledged its
 * batch. A lone add at a quiet moment goes at the end of the current loop turn (`setImmediate`), so
 * batches grow with the load and cost nothing when there is none. If a write fails, every caller of
 * that batch is rejected (answered 503, so the forge redelivers; job ids make that harmless).
 *
 * Why: BullMQ's add costs about 200 µs of CPU (client and Redis) as a command of its own and under
 * 50 µs inside a pipeline of eight; without grouping, a burst of deliveries paid one socket write,
 * one Redis wake-up and one script round trip per job.
 */
export class JobBatcher<T> {
  private pending: Array<PendingJob<T>> = [];
  private writing = false;

  /** Batches adds to `queue`. */
  constructor(private readonly queue: Queue<T>) {}

  /** Adds a job; resolves once Redis holds it (a job id already present counts, as with `Queue.add`). */
  add(job: BulkJob<T>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ job, resolve, reject });
      if (!this.writing) {
        this.writing = true;
        setImmediate(() => void this.write());
      }
    });
  }

  /** Writes what is pending, then what arrived meanwhile, until nothing is left. */
  private async write(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        const [single] = batch;
        // A lone job skips the pipeline, which costs more than the one command it would carry.
        if (batch.length === 1 && single !== undefined)
          await this.queue.add(single.job.name, single.job.data, single.job.opts);
        else await this.queue.addBulk(batch.map((pending) => pending.job));
        for (const pending of batch) pending.resolve();
      } catch (error) {
        for (const pending of batch) pending.reject(error);
      }
    }
    this.writing = false;
  }
}
