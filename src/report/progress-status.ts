/**
 * Posts progress descriptions (`waiting: 2/3 Deployments available`) as a status, throttled: only a
 * text that differs from the last one posted, at most one post per interval, one post at a time.
 * A release polls every second or two; the forge needs to hear only what changed.
 */
export class ProgressStatus {
  private posted = "";
  private postedAt = 0;
  private inFlight: Promise<void> = Promise.resolve();

  /** Wraps `post`, which sets the status; errors posting progress are dropped (the final status matters). */
  constructor(
    private readonly post: (description: string) => Promise<void>,
    private readonly minIntervalMs = 3_000,
  ) {}

  /** Posts `description` unless it is what was posted last or the last post was too recent (a later call posts it then). */
  update(description: string): void {
    if (description === this.posted || Date.now() - this.postedAt < this.minIntervalMs) return;
    this.posted = description;
    this.postedAt = Date.now();
    this.inFlight = this.inFlight.then(() => this.post(description)).catch(() => undefined);
  }

  /** Resolves once every post under way has finished, so a final status is never overtaken by a progress one. */
  settled(): Promise<void> {
    return this.inFlight;
  }
}
