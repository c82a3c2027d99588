import type { RepoRef } from "../domain/repo.js";
import type { RedisClient } from "../queue/redis-connection.js";
import type { ActiveFreeze } from "./freeze-window.js";

/** An ad-hoc freeze (`/ferry freeze`), as kept. */
export interface AdHocFreeze extends ActiveFreeze {
  /** Who froze the environment. */
  by: string;
}

/**
 * Ad-hoc freezes of environments (`/ferry freeze <env> <duration> <reason>`, `/ferry unfreeze
 * <env>`), one per (repository, environment), kept in Redis until they end; and the deploys each
 * freeze held back (delayed deploy jobs), so that an unfreeze releases them at once.
 */
export class FreezeStore {
  /** Binds the store to Ferry's Redis. */
  constructor(private readonly redis: RedisClient) {}

  /** Freezes `environment` of `repo` until `freeze.until`, replacing any ad-hoc freeze of it. */
  async freeze(repo: RepoRef, environment: string, freeze: AdHocFreeze): Promise<void> {
    await this.redis.set(freezeKey(repo, environment), JSON.stringify(freeze), "PXAT", freeze.until);
  }

  /** Ends the ad-hoc freeze of `environment`; the freeze it ended, if there was one. */
  async unfreeze(repo: RepoRef, environment: string): Promise<AdHocFreeze | undefined> {
    const key = freezeKey(repo, environment);
    const [[, before]] = (await this.redis.multi().get(key).del(key).exec()) as [[unknown, string | null]];
    return before === null ? undefined : (JSON.parse(before) as AdHocFreeze);
  }

  /** The ad-hoc freeze of `environment` in force at `now`, if any. */
  async current(repo: RepoRef, environment: string, now: number): Promise<AdHocFreeze | undefined> {
    const text = await this.redis.get(freezeKey(repo, environment));
    const freeze = text === null ? undefined : (JSON.parse(text) as AdHocFreeze);
    return freeze !== undefined && freeze.until > now ? freeze : undefined;
  }

  /** Remembers `jobId`, a deploy held back until `until`, to release early if the freeze ends sooner. */
  async heldBack(repo: RepoRef, environment: string, jobId: string, until: number): Promise<void> {
    const key = heldKey(repo, environment);
    await this.redis
      .multi()
      .sadd(key, jobId)
      .pexpireat(key, until + 3_600_000)
      .exec();
  }

  /** The deploys held back for `environment`, forgotten as they are handed over. */
  async takeHeldBack(repo: RepoRef, environment: string): Promise<string[]> {
    const key = heldKey(repo, environment);
    const [[, ids]] = (await this.redis.multi().smembers(key).del(key).exec()) as [[unknown, string[]]];
    return ids;
  }
}

// One hash tag per (repository, environment), so both keys share a Redis Cluster slot.
const tag = (repo: RepoRef, environment: string) => `{${repo.forge}:${repo.fullName}:${environment}}`;
const freezeKey = (repo: RepoRef, environment: string) => `ferry:freeze:${tag(repo, environment)}`;
const heldKey = (repo: RepoRef, environment: string) => `ferry:freeze-held:${tag(repo, environment)}`;
