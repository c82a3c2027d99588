import type { RepoRef } from "../domain/repo.js";
import type { RedisClient } from "../queue/redis-connection.js";

/** How long Ferry remembers which change reverts which: as long as the audit trail's default retention. */
const TTL_SECONDS = 400 * 24 * 3600;

/** The revert Ferry opened for a change, as remembered. */
export interface KnownRevert {
  /** The revert change's number. */
  number: number;
  /** Its web page. */
  url: string;
  /** Who asked for it. */
  by: string;
  /** When it was opened (ms since the epoch). */
  at: number;
}

/**
 * Which change reverts which, per (forge, repository, change), so that a second `/ferry rollback`
 * points at the first revert, open or merged (the forge alone finds only open ones), and a claim that
 * keeps two requests for one change from opening two reverts at once.
 */
export class RevertStore {
  /** Binds the store to a Redis connection. */
  constructor(private readonly redis: RedisClient) {}

  /** The revert opened for `change`, or undefined when none was (or it was forgotten after 400 days). */
  async get(repo: RepoRef, change: number): Promise<KnownRevert | undefined> {
    const text = await this.redis.get(key(repo, change));
    return text === null ? undefined : (JSON.parse(text) as KnownRevert);
  }

  /** Remembers the revert of `change`. */
  async remember(repo: RepoRef, change: number, revert: KnownRevert): Promise<void> {
    await this.redis.set(key(repo, change), JSON.stringify(revert), "EX", TTL_SECONDS);
  }

  /**
   * Takes the right to open `change`'s revert for `ms`: false while another holder has it; the same
   * holder (a retried job) takes it again. `release` gives it back.
   */
  async claim(repo: RepoRef, change: number, holder: string, ms: number): Promise<boolean> {
    const taken = await this.redis.eval(
      `local held = redis.call("get", KEYS[1])
      if held ~= false and held ~= ARGV[1] then return 0 end
      redis.call("set", KEYS[1], ARGV[1], "PX", ARGV[2])
      return 1`,
      1,
      `${key(repo, change)}:claim`,
      holder,
      String(ms),
    );
    return taken === 1;
  }

  /** Gives back a claim `holder` took (a claim another holder took since is left alone). */
  async release(repo: RepoRef, change: number, holder: string): Promise<void> {
    await this.redis.eval(
      'if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) end return 0',
      1,
      `${key(repo, change)}:claim`,
      holder,
    );
  }
}

/** The key of `change`'s revert; the braces keep its claim in the same Redis Cluster slot. */
function key(repo: RepoRef, change: number): string {
  return `ferry:revert:{${repo.forge}:${repo.fullName}:${change}}`;
}
