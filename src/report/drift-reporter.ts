import type { RepoRef } from "../domain/repo.js";
import { isPermanent } from "../errors.js";
import type { Forge } from "../forge/types.js";
import type { RedisClient } from "../queue/redis-connection.js";
import {
  driftClosedComment,
  driftIssueBody,
  driftIssueMarker,
  driftIssueTitle,
  driftOffComment,
} from "./drift-issue.js";
import { driftContext, driftStatus, type ClusterVerdict } from "./drift-status.js";

/** The Redis hash of an environment's latest drift verdict per cluster (JSON `ClusterVerdict`s by cluster name). */
export function driftVerdictsKey(repo: Pick<RepoRef, "forge" | "fullName">, environment: string): string {
  return `ferry:drift:${repo.forge}:${repo.fullName}:${environment}`;
}

/** How long an environment's verdicts are kept without any check: 30 days. */
const VERDICTS_TTL_SECONDS = 30 * 24 * 3600;

/**
 * Everything a reconcile tells the forge about drift: the `ferry/drift/<env>` status on the
 * environment's released commit, worded in `drift-status.ts`, and the environment's drift issue
 * (`drift-issue.ts`). Each cluster's latest verdict is kept
 * in Redis, so a fleet's status covers all its clusters whichever worker checked each. Jobs never
 * post drift statuses themselves.
 */
export class DriftReporter {
  /** Binds the reporter to one repository's forge and the Redis that keeps verdicts. */
  constructor(
    private readonly forge: Forge,
    private readonly redis: RedisClient,
  ) {}

  /**
   * A cluster of `environment` (deployed from `branch`) was checked: its verdict is kept, and the
   * environment's status and drift issue follow; says why the issue could not be kept when the forge
   * refused it for good.
   */
  async checked(environment: string, branch: string, verdict: ClusterVerdict): Promise<{ issueError?: string }> {
    const key = this.verdictsKey(environment);
    await this.redis
      .multi()
      .hset(key, verdict.cluster, JSON.stringify(verdict))
      .expire(key, VERDICTS_TTL_SECONDS)
      .exec();
    const verdicts = await this.verdicts(environment, verdict.checkedAt);
    const { state, description } = driftStatus(verdicts, verdict);
    await this.forge.setStatus(verdict.sha, { context: driftContext(environment), state, description });
    try {
      await this.driftIssue(environment, branch, verdicts, verdict);
      return {};
    } catch (error) {
      // A forge refusing issues for good (the app lacks issues: write, Issues turned off) must not fail
      // every reconcile: the status is posted, and the caller logs why the issue is not.
      if (!isPermanent(error)) throw error;
      return { issueError: (error as Error).message };
    }
  }

  /**
   * Drift checks were turned off (`reconcile.drift: ignore`) for `environment` on `cluster`: what
   * was reported for it is taken back, once. Its verdict is dropped, the drift status on its released
   * commit `sha` says checks are off (a failing one would stand forever otherwise), and once no
   * cluster of the environment has a verdict left, its drift issue is closed saying why.
   */
  async turnedOff(environment: string, cluster: string, sha: string | undefined): Promise<void> {
    if ((await this.redis.hdel(this.verdictsKey(environment), cluster)) === 0) return;
    if (sha !== undefined)
      await this.forge.setStatus(sha, {
        context: driftContext(environment),
        state: "success",
        description: "drift checks off (reconcile.drift: ignore)",
      });
    const openKey = `${this.verdictsKey(environment)}:issue`;
    if ((await this.verdicts(environment, Date.now())).length > 0 || (await this.redis.get(openKey)) === null) return;
    await this.forge.closeIssue(driftIssueMarker(environment), driftOffComment(environment));
    await this.redis.del(openKey);
  }

  /**
   * The environment's one drift issue (`Drift in <env>`): opened when drift appears, edited in place as
   * it changes (the forge leaves an unchanged issue alone), closed with a comment once every cluster is
   * back in sync. Redis remembers that it is open, so an environment in sync costs no forge call.
   */
  private async driftIssue(
    environment: string,
    branch: string,
    verdicts: ClusterVerdict[],
    latest: ClusterVerdict,
  ): Promise<void> {
    const marker = driftIssueMarker(environment);
    const openKey = `${this.verdictsKey(environment)}:issue`;
    if (verdicts.some((v) => v.drifted > 0)) {
      await this.forge.ensureIssue(
        marker,
        driftIssueTitle(environment),
        driftIssueBody(environment, branch, verdicts, this.forge.maxIssueBodyLength),
      );
      await this.redis.set(openKey, "1", "EX", VERDICTS_TTL_SECONDS);
    } else if (verdicts.every((v) => v.unreachable === undefined) && (await this.redis.get(openKey)) !== null) {
      // A cluster not checked (its agent away) may still be drifted: the issue closes only once it is seen in sync.
      await this.forge.closeIssue(marker, driftClosedComment(latest));
      await this.redis.del(openKey);
    }
  }

  /** The commit `cluster`'s latest verdict of `environment` was reported on, if any is kept. */
  async lastSha(environment: string, cluster: string): Promise<string | undefined> {
    const json = await this.redis.hget(this.verdictsKey(environment), cluster);
    return json === null ? undefined : (JSON.parse(json) as ClusterVerdict).sha;
  }

  /** The latest verdict of each cluster still reconciled (a verdict older than its cluster's next due check is dropped). */
  private async verdicts(environment: string, now: number): Promise<ClusterVerdict[]> {
    const key = this.verdictsKey(environment);
    const all = Object.entries(await this.redis.hgetall(key)).map(([cluster, json]) => ({
      cluster,
      verdict: JSON.parse(json) as ClusterVerdict,
    }));
    const stale = all.filter((v) => v.verdict.until < now).map((v) => v.cluster);
    if (stale.length > 0) await this.redis.hdel(key, ...stale);
    return all.filter((v) => v.verdict.until >= now).map((v) => v.verdict);
  }

  private verdictsKey(environment: string): string {
    return driftVerdictsKey(this.forge.repo, environment);
  }
}
