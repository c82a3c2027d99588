/** How long a refused check-run write keeps an installation on commit statuses before Ferry asks again. */
export const CHECKS_DENIAL_MS = 10 * 60_000;

/**
 * Which app installations refused Ferry's check runs (403: no `checks: write`), remembered for
 * `ttlMs`, so each plan of such an installation goes straight to commit statuses and the refusal is
 * logged once per period rather than on every plan; once the time is up Ferry tries checks again,
 * so accepting the permission takes effect within `ttlMs`. One per forge factory (never module state).
 */
export class ChecksPermission {
  private readonly deniedUntil = new Map<number, number>();

  /** `ttlMs`: how long a refusal holds; `now`: the clock (for tests). */
  constructor(
    private readonly ttlMs = CHECKS_DENIAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether `installationId` refused checks within the last `ttlMs`. */
  denied(installationId: number): boolean {
    const until = this.deniedUntil.get(installationId);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.deniedUntil.delete(installationId);
    return false;
  }

  /** Records a refusal; true when it is news (not already denied), the one to log. */
  deny(installationId: number): boolean {
    const news = !this.denied(installationId);
    this.deniedUntil.set(installationId, this.now() + this.ttlMs);
    return news;
  }
}
