import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
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
}

/**
 * Runs `fn` while holding a Redis lock on `key`: one release at a time per environment, across
 * every worker process. The lock expires if its holder dies (a killed worker cannot block an
 * environment for longer than the TTL) and is renewed while `fn` runs.
 */
export async function withLock<T>(redis: Redis, key: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const ttl = options.ttlMs ?? 30_000;
  const deadline = Date.now() + (options.waitMs ?? 15 * 60_000);
  const token = randomUUID();
  let delay = 20;
  while ((await redis.set(key, token, "PX", ttl, "NX")) !== "OK") {
    if (Date.now() > deadline) throw transient(`another release of the same environment is still running (${key})`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 500);
  }
  const renew = setInterval(() => void redis.eval(EXTEND, 1, key, token, ttl).catch(() => undefined), ttl / 3);
  try {
    return await fn();
  } finally {
    clearInterval(renew);
    await redis.eval(RELEASE, 1, key, token).catch(() => undefined);
  }
}
