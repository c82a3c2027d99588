import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Redis } from "ioredis";
import { startTestRedis } from "../../test/support/redis.js";
import { connectRedis } from "../queue/redis-connection.js";
import { AuditLog } from "./audit-log.js";
import type { AuditEntry } from "./audit-record.js";
import { auditChainKey, auditStreamKey } from "./audit-scope.js";

const RECORDS = 10_000;

/** A cluster's release as a merge makes it: a few objects changed, by name. */
function release(i: number): AuditEntry {
  const at = Date.now();
  return {
    action: "release",
    actor: "octocat",
    forge: "github",
    repository: "acme/shop",
    environment: "production",
    cluster: "eu-west-1",
    change: 1000 + i,
    sha: i.toString(16).padStart(40, "a"),
    rollout: `r${i.toString(36).padStart(21, "x")}`,
    queuedAt: new Date(at - 4_000).toISOString(),
    startedAt: new Date(at - 3_000).toISOString(),
    finishedAt: new Date(at).toISOString(),
    outcome: "released",
    objects: {
      created: [],
      configured: ["Deployment shop/web", "ConfigMap shop/web-config"],
      pruned: [],
      unchanged: 12,
    },
  };
}

describe("audit memory", () => {
  let server: Awaited<ReturnType<typeof startTestRedis>>;
  let redis: Redis;

  before(async () => {
    server = await startTestRedis();
    redis = connectRedis(server.url);
  });
  after(async () => {
    redis.disconnect();
    await server.stop();
  });

  it(`holds ${RECORDS} release records in under 1 KiB each (MEMORY USAGE, every entry sampled)`, async (t) => {
    const log = new AuditLog(redis, { retentionMs: 400 * 86_400_000 });
    const scope = { forge: "github" as const, repository: "acme/shop", environment: "production" };
    let textBytes = 0;
    for (let i = 0; i < RECORDS; i++) {
      const { record } = await log.append(release(i));
      if (i === 0) textBytes = JSON.stringify(record).length;
    }
    const usage = async (key: string) => Number(await redis.call("MEMORY", "USAGE", key, "SAMPLES", "0"));
    const chain = await usage(auditChainKey(scope));
    const bytes = (await usage(auditStreamKey(scope))) + chain;
    const perRecord = Math.round(bytes / RECORDS);
    t.diagnostic(
      `${perRecord} bytes per record in Redis (record JSON ${textBytes} bytes + 64-byte hash); ${chain} bytes of chain hash per environment`,
    );
    assert.ok(perRecord < 1024, `${perRecord} bytes per record`);
  });
});
