import type { Forge } from "../forge/types.js";
import type { RedisClient } from "../queue/redis-connection.js";
import { driftContext, driftStatus, type ClusterVerdict } from "./drift-status.js";

/** How long an environment's verdicts are kept without any check: 30 days. */
const VERDICTS_TTL_SECONDS = 30 * 24 * 3600;

/**
 * Everything a reconcile tells the forge about drift: the `ferry/drift/<env>` status on the
 * environment's released commit, worded in `drift-status.ts`. Each cluster's latest verdict is kept
 * in Redis, so a fleet's status covers all its clusters whichever worker checked each. Jobs never
 * post drift statuses themselves.
 */
export class DriftReporter {
  /** Binds the reporter to one repository's forge and the Redis that keeps verdicts. */
  constructor(
    private readonly forge: Forge,
    private readonly redis: RedisClient,
  ) {}

  /** A cluster of `environment` was checked: its verdict is kept, and the environment's status and drift issue follow. */
  async checked(environment: string, verdict: ClusterVerdict): Promise<void> {
    const key = this.verdictsKey(environment);
    await this.redis.multi().hset(key, verdict.cluster, JSON.stringify(verdict)).expire(key, VERDICTS_TTL_SECONDS).exec();
    const verdicts = await this.verdicts(environment, verdict.checkedAt);
    const { state, description } = driftStatus(verdicts, verdict);
    await this.forge.setStatus(verdict.sha, { context: driftContext(environment), state, description });
    await this.driftIssue(environment, verdicts);
  }

  /**
   * The seam for the environment's drift issue (`Drift in <env>`: opened when drift appears, edited as
   * it changes, closed when back in sync). Forge.ensureIssue/closeIssue are being built apart; until
   * they exist the status is drift's only report, and this does nothing.
   */
  private async driftIssue(_environment: string, _verdicts: ClusterVerdict[]): Promise<void> {
    // Wire Forge.ensureIssue / Forge.closeIssue here once the forge has them.
  }

  /** The latest verdict of each cluster still reconciled (a verdict older than its cluster's next due check is dropped). */
  private async verdicts(environment: string, now: number): Promise<ClusterVerdict[]> {
    const key = this.verdictsKey(environment);
    const all = Object.entries(await this.redis.hgetall(key)).map(([cluster, json]) => ({ cluster, verdict: JSON.parse(json) as ClusterVerdict }));
    const stale = all.filter((v) => v.verdict.until < now).map((v) => v.cluster);
    if (stale.length > 0) await this.redis.hdel(key, ...stale);
    return all.filter((v) => v.verdict.until >= now).map((v) => v.verdict);
  }

  private verdictsKey(environment: string): string {
    return `ferry:drift:${this.forge.repo.forge}:${this.forge.repo.fullName}:${environment}`;
  }
}
