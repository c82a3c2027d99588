import { randomUUID } from "node:crypto";
import type { RedisClient } from "./redis-connection.js";
import { transient } from "../errors.js";

/** Deletes the lock only while it still holds our token, so an expired holder cannot free another's lock. */
const RELEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;
/** Extends the lock only while it still holds our token. */
const EXTEND = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end`;

/** Options for {@link withLock}. */
export interface LockOptions {
  /** How long a holder keeps the lock without renewing it; renewed every third of this while held. */
  ttlMs?: number;
  /** How long to wait for the lock before giving up with a transient error (the job retries). */
  waitMs?: number;
  /**
   * What this caller wants the lock for (e.g. the commit it means to release), listed by
   * {@link lockWaiters} while it waits, so the holder can tell that someone newer is queued.
   */
  waiter?: string;
}

/** Default time a caller waits for the lock; also how long a waiter's entry counts. */
const DEFAULT_WAIT_MS = 15 * 60_000;

/** The sorted set (score: when it began waiting) of those waiting for `key`. */
const waitersKey = (key: string) => `${key}:waiting`;

/**
 * Runs `fn` while holding a Redis lock on `key`: one release at a time per environment, across
 * every worker process. The lock expires if its holder dies (a killed worker cannot block an
 * environment for longer than the TTL) and is renewed while `fn` runs.
 */
export async function withLock<T>(
  redis: RedisClient,
  key: string,
  fn: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  const ttl = options.ttlMs ?? 30_000;
  const waitMs = options.waitMs ?? DEFAULT_WAIT_MS;
  const deadline = Date.now() + waitMs;
  const token = randomUUID();
  const entry = options.waiter === undefined ? undefined : `${token} ${options.waiter}`;
  let delay = 20;
  let listed = false;
  try {
    while ((await redis.set(key, token, "PX", ttl, "NX")) !== "OK") {
      if (Date.now() > deadline) throw transient(`another release of the same environment is still running (${key})`);
      if (entry !== undefined && !listed) {
        await redis.multi().zadd(waitersKey(key), Date.now(), entry).pexpire(waitersKey(key), waitMs).exec();
        listed = true;
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 500);
    }
  } finally {
    if (entry !== undefined && listed) await redis.zrem(waitersKey(key), entry).catch(() => undefined);
  }
  const renew = setInterval(() => void redis.eval(EXTEND, 1, key, token, ttl).catch(() => undefined), ttl / 3);
  try {
    return await fn();
  } finally {
    clearInterval(renew);
    await redis.eval(RELEASE, 1, key, token).catch(() => undefined);
  }
}

/**
 * What the callers waiting for `key` want it for (their `waiter`), oldest first. Entries of callers
 * that died while waiting drop out once they are older than the longest wait.
 */
export async function lockWaiters(redis: RedisClient, key: string, maxWaitMs = DEFAULT_WAIT_MS): Promise<string[]> {
  await redis.zremrangebyscore(waitersKey(key), "-inf", Date.now() - maxWaitMs);
  const entries = await redis.zrange(waitersKey(key), 0, -1);
  return entries.map((e) => e.slice(e.indexOf(" ") + 1));
}
