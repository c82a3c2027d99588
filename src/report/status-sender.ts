import { isPermanent } from "../errors.js";
import type { CommitStatus } from "../forge/types.js";

/** What a {@link StatusSender} does with a status it could not send. */
export interface UndeliveredStatus {
  sha: string;
  status: CommitStatus;
  error: unknown;
  /** The forge refused it for good (a 4xx): no retry can send it. */
  refused: boolean;
}

/** Options for {@link StatusSender}. */
export interface StatusSenderOptions {
  /** Most tries of one status whose sending fails for a reason that may pass (default 5). */
  attempts?: number;
  /** Wait before the second try, doubled after each (default 1 s: 1, 2, 4, 8 s). */
  delayMs?: number;
  /** Told of every failed try that will be tried again, with how long until then. */
  onRetry?: (failed: UndeliveredStatus & { attempt: number; retryInMs: number }) => void;
  /** Told of every status given up (refused, or still failing after every try); never of one coalesced away. */
  onUndelivered?: (undelivered: UndeliveredStatus) => void;
}

/** The statuses of one (commit, context): what waits to be sent, and the sender at work on them. */
interface Lane {
  sha: string;
  pending: CommitStatus[];
  sending: Promise<void> | undefined;
}

const isFinal = (status: CommitStatus) => status.state === "success" || status.state === "failure";

/**
 * Sends commit statuses beside the work they report on. `post` returns at once; per (commit,
 * context) one status is in flight at a time, in the order they were posted. While one is in flight
 * (or waiting to try again), newer ones queue and coalesce: an intermediate status still waiting is
 * dropped as soon as a newer one arrives, as is an intermediate one failing to send; final statuses
 * (success, failure) are never dropped. Failures that may pass are tried again with doubling waits.
 * `settled` is awaited before a job ends, so its last status is sent before the job completes.
 *
 * Why: a forge that throttles or fails status writes (GitHub retrying a 502 for 14 s, GitLab
 * answering 502) held up the release behind a "queued" status, or failed and retried the release;
 * what the forge shows is worth less than the release it reports on.
 */
export class StatusSender {
  private readonly lanes = new Map<string, Lane>();
  private readonly failedFinals: Error[] = [];
  private readonly attempts: number;
  private readonly delayMs: number;

  /** Sends through `send` (the forge's `setStatus`, with each commit's final status frozen). */
  constructor(
    private readonly send: (sha: string, status: CommitStatus) => Promise<void>,
    private readonly options: StatusSenderOptions = {},
  ) {
    this.attempts = options.attempts ?? 5;
    this.delayMs = options.delayMs ?? 1000;
  }

  /** Queues `status` for `sha`, stamped with when it was made, dropping intermediate statuses of the same context it makes stale. */
  post(sha: string, status: CommitStatus): void {
    const key = `${sha} ${status.context}`;
    let lane = this.lanes.get(key);
    if (lane === undefined) this.lanes.set(key, (lane = { sha, pending: [], sending: undefined }));
    lane.pending = lane.pending.filter(isFinal);
    lane.pending.push({ ...status, madeAt: status.madeAt ?? Date.now() });
    lane.sending ??= this.drain(lane);
  }

  /**
   * Resolves once every status posted so far (and any posted meanwhile) was sent or given up.
   * Rejects when a final status could not be sent for a reason that may pass, so the job is retried
   * and reports again; a final status the forge refused for good does not (retrying cannot help).
   */
  async settled(): Promise<void> {
    for (;;) {
      const sending = [...this.lanes.values()].map((lane) => lane.sending).filter((s) => s !== undefined);
      if (sending.length === 0) break;
      await Promise.all(sending);
    }
    const [failed] = this.failedFinals.splice(0);
    if (failed !== undefined) throw failed;
  }

  private async drain(lane: Lane): Promise<void> {
    try {
      for (let next = lane.pending.shift(); next !== undefined; next = lane.pending.shift())
        await this.deliver(lane, next);
    } finally {
      lane.sending = undefined;
    }
  }

  /** Sends one status, trying again while it fails for a reason that may pass and nothing newer made it stale. */
  private async deliver(lane: Lane, status: CommitStatus): Promise<void> {
    let delay = this.delayMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.send(lane.sha, status);
        return;
      } catch (error) {
        const refused = isPermanent(error);
        // A newer status arrived: it says more than this intermediate one, which is not sent.
        const stale = () => !isFinal(status) && lane.pending.length > 0;
        if (!refused && attempt < this.attempts && !stale()) {
          this.options.onRetry?.({ sha: lane.sha, status, error, refused, attempt, retryInMs: delay });
          await new Promise((resolve) => setTimeout(resolve, delay));
          delay *= 2;
          if (stale()) return;
          continue;
        }
        if (!refused && stale()) return;
        if (isFinal(status) && !refused)
          this.failedFinals.push(error instanceof Error ? error : new Error(String(error)));
        this.options.onUndelivered?.({ sha: lane.sha, status, error, refused });
        return;
      }
    }
  }
}
