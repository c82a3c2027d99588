import { Redis, type RedisOptions } from "ioredis";

/**
 * Opens an ioredis connection as BullMQ wants it (`maxRetriesPerRequest: null`, so workers block
 * and reconnect forever) from a `redis://` URL.
 */
export function connectRedis(url: string, options: RedisOptions = {}): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, ...options });
  // Errors surface through the commands that fail; an unhandled "error" event would crash the process.
  redis.on("error", () => undefined);
  return redis;
}

/** True when Redis answers PING within `timeoutMs`. */
export async function redisIsUp(redis: Redis, timeoutMs = 1000): Promise<boolean> {
  if (redis.status !== "ready") return false;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  try {
    return await Promise.race([redis.ping().then((r) => r === "PONG"), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
