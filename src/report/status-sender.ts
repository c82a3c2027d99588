import { isPermanent } from "../errors.js";
import type { CommitStatus } from "../forge/types.js";

/** Something an {@link OrderedSender} sends: stamped with when it was made. */
export interface Sendable {
  /** When it was made (ms since the epoch); stamped by `post` when absent. */
  madeAt?: number;
}

/** What a {@link StatusSender} (or any {@link OrderedSender}) does with a status it could not send. */
export interface UndeliveredStatus<T = CommitStatus> {
  sha: string;
  status: T;
  error: unknown;
  /** The forge refused it for good (a 4xx): no retry can send it. */
  refused: boolean;
}

/** Options for {@link StatusSender} (and any {@link OrderedSender}). */
export interface StatusSenderOptions<T = CommitStatus> {
  /** Most tries of one status whose sending fails for a reason that may pass (default 5). */
  attempts?: number;
  /** Wait before the second try, doubled after each (default 1 s: 1, 2, 4, 8 s). */
  delayMs?: number;
  /** Told of every failed try that will be tried again, with how long until then. */
  onRetry?: (failed: UndeliveredStatus<T> & { attempt: number; retryInMs: number }) => void;
  /** Told of every status given up (refused, or still failing after every try); never of one coalesced away. */
  onUndelivered?: (undelivered: UndeliveredStatus<T>) => void;
  /**
   * How long an intermediate status waits after it was made before it is sent (default 0): one that
   * something newer replaces meanwhile is never sent, so a quick release's final status is its
   * commit's first write (on GitHub, whose writes go a second apart, it is then not a second late).
   */
  holdMs?: number;
}

/** How an {@link OrderedSender} sorts what it sends into lanes and tells a final item. */
export interface Lanes<T> {
  /** The lane of an item within its commit (a status's context): one item of a lane is in flight at a time. */
  laneOf(item: T): string;
  /** Whether an item is final: never dropped, never coalesced away. */
  isFinal(item: T): boolean;
}

/** The items of one lane of a commit: what waits to be sent, and the sender at work on them. */
interface Lane<T> {
  sha: string;
  pending: T[];
  sending: Promise<void> | undefined;
  /** Ends the hold of the intermediate status about to be sent (something newer was posted). */
  wake?: () => void;
}

const isFinalStatus = (status: CommitStatus) => status.state === "success" || status.state === "failure";

/**
 * Sends commit statuses (or other reports, such as deployment states) beside the work they report
 * on. `post` returns at once; per (commit, lane: a status's context) one status is in flight at a
 * time, in the order they were posted. While one is in flight (or waiting to try again), newer ones
 * queue and coalesce: an intermediate status still waiting is dropped as soon as a newer one
 * arrives, as is an intermediate one failing to send; final statuses (success, failure;
 * `Lanes.isFinal`) are never dropped. Failures that may pass are tried again with doubling waits.
 * `settled` is awaited before a job ends, so its last status is sent before the job completes.
 *
 * Why: a forge that throttles or fails status writes (GitHub retrying a 502 for 14 s, GitLab
 * answering 502) held up the release behind a "queued" status, or failed and retried the release;
 * what the forge shows is worth less than the release it reports on.
 */
export class OrderedSender<T extends Sendable> {
  private readonly lanes = new Map<string, Lane<T>>();
  private readonly failedFinals: Error[] = [];
  private readonly attempts: number;
  private readonly delayMs: number;

  /** Sends through `send`, sorting items into lanes by `kinds`. */
  constructor(
    private readonly send: (sha: string, item: T) => Promise<void>,
    private readonly kinds: Lanes<T>,
    private readonly options: StatusSenderOptions<T> = {},
  ) {
    this.attempts = options.attempts ?? 5;
    this.delayMs = options.delayMs ?? 1000;
  }

  /** Queues `status` for `sha`, stamped with when it was made, dropping intermediate statuses of the same context it makes stale. */
  post(sha: string, status: T): void {
    const key = `${sha} ${this.kinds.laneOf(status)}`;
    let lane = this.lanes.get(key);
    if (lane === undefined) this.lanes.set(key, (lane = { sha, pending: [], sending: undefined }));
    lane.pending = lane.pending.filter((item) => this.kinds.isFinal(item));
    lane.pending.push({ ...status, madeAt: status.madeAt ?? Date.now() });
    lane.wake?.();
    lane.sending ??= this.drain(lane);
  }

  /** Resolves once nothing is being sent or waiting to be (what could not be sent is `settled`'s to tell). */
  async idle(): Promise<void> {
    for (;;) {
      const sending = [...this.lanes.values()].map((lane) => lane.sending).filter((s) => s !== undefined);
      if (sending.length === 0) return;
      await Promise.allSettled(sending);
    }
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

  private async drain(lane: Lane<T>): Promise<void> {
    try {
      for (let next = lane.pending.shift(); next !== undefined; next = lane.pending.shift()) {
        if (this.options.holdMs && !this.kinds.isFinal(next) && (await this.replacedWhileHeld(lane, next))) continue;
        await this.deliver(lane, next);
      }
    } finally {
      lane.sending = undefined;
    }
  }

  /** Holds intermediate `item` until `holdMs` after it was made; true when something newer was posted meanwhile. */
  private async replacedWhileHeld(lane: Lane<T>, item: T): Promise<boolean> {
    const until = (item.madeAt ?? 0) + (this.options.holdMs ?? 0);
    // A timer may fire a millisecond before Date.now() reaches its due time: then it waits out the rest.
    while (Date.now() < until && lane.pending.length === 0)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, until - Date.now());
        lane.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      }).finally(() => (lane.wake = undefined));
    return lane.pending.length > 0;
  }

  /** Sends one status, trying again while it fails for a reason that may pass and nothing newer made it stale. */
  private async deliver(lane: Lane<T>, status: T): Promise<void> {
    const isFinal = (item: T) => this.kinds.isFinal(item);
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

/** An {@link OrderedSender} of commit statuses: one lane per (commit, context); success and failure are final. */
export class StatusSender extends OrderedSender<CommitStatus> {
  /** Sends through `send` (the forge's `setStatus`, with each commit's final status frozen). */
  constructor(
    send: (sha: string, status: CommitStatus) => Promise<void>,
    options: StatusSenderOptions<CommitStatus> = {},
  ) {
    super(send, { laneOf: (status) => status.context, isFinal: isFinalStatus }, options);
  }
}
