import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRedisServer, type RedisServer } from "../../src/redis/redis-server.js";

/** A real redis-server on a free loopback port in a temp dir, for one test file; `stop` removes the dir. */
export async function startTestRedis(options: { appendOnly?: boolean } = {}): Promise<RedisServer & { dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), "ferry-redis-"));
  const server = await startRedisServer({ dir, appendOnly: options.appendOnly ?? false });
  return {
    ...server,
    dir,
    stop: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
