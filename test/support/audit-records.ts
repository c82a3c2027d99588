import { AuditLog } from "../../src/audit/audit-log.js";
import type { AuditRecord } from "../../src/audit/audit-record.js";
import type { ForgeKind } from "../../src/domain/repo.js";
import { openRedis, type RedisClient, type RedisTarget } from "../../src/queue/redis-connection.js";

/** Reads the audit trail a test's Ferry wrote, from its Redis. */
export class AuditReader {
  private constructor(
    private readonly redis: RedisClient,
    /** The audit log, for reads beyond {@link records}. */
    readonly log: AuditLog,
  ) {}

  /** A reader of the audit trail in the Redis at `url` or `target`. */
  static open(target: string | RedisTarget): AuditReader {
    const redis = openRedis(typeof target === "string" ? { kind: "url", url: target } : target);
    return new AuditReader(redis, new AuditLog(redis, { retentionMs: 400 * 86_400_000 }));
  }

  /** Every record of a repository (or one of its environments), oldest first within each environment. */
  async records(forge: ForgeKind, repository: string, environment?: string): Promise<AuditRecord[]> {
    const found: AuditRecord[] = [];
    for (const scope of await this.log.scopes()) {
      if (scope.forge !== forge || scope.repository !== repository) continue;
      if (environment !== undefined && scope.environment !== environment) continue;
      for await (const entry of this.log.entries(scope)) found.push(JSON.parse(entry.text) as AuditRecord);
    }
    return found;
  }

  /** The Redis connection, for a test that tampers with the trail as an intruder would. */
  get connection(): RedisClient {
    return this.redis;
  }

  /** Disconnects. */
  close(): void {
    this.redis.disconnect();
  }
}
