import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Redis } from "ioredis";
import { startTestRedis } from "../../test/support/redis.js";
import { connectRedis } from "../queue/redis-connection.js";
import { AuditLog, type AppendedRecord } from "./audit-log.js";
import type { AuditEntry } from "./audit-record.js";
import { exportedRecordSchema, exportLines, verifyExport } from "./export-records.js";
import { readHistory } from "./read-history.js";

const DAY = 86_400_000;

describe("exportLines and verifyExport", () => {
  let server: Awaited<ReturnType<typeof startTestRedis>>;
  let redis: Redis;
  let log: AuditLog;
  const written: AppendedRecord[] = [];
  const entry = (environment: string, i: number): AuditEntry => ({
    action: i % 3 === 0 ? "heal" : "release",
    actor: i % 3 === 0 ? "reconcile" : `user-${i}`,
    forge: "gitlab",
    repository: "acme/platform/shop",
    environment,
    cluster: "eu-1",
    sha: `${i}`.padStart(40, "0"),
    finishedAt: new Date(Date.now() + i).toISOString(),
    outcome: "released",
    objects: { created: [`ConfigMap shop/c-${i}`], configured: [], pruned: ["Secret shop/old"], unchanged: 3 },
  });

  before(async () => {
    server = await startTestRedis();
    redis = connectRedis(server.url);
    log = new AuditLog(redis, { retentionMs: 400 * DAY });
    for (let i = 0; i < 10; i++) written.push(await log.append(entry(i < 6 ? "staging" : "production", i)));
    await log.append({ ...entry("staging", 99), repository: "acme/other" });
  });
  after(async () => {
    redis.disconnect();
    await server.stop();
  });

  const exported = async (filter = {}, range = {}) => {
    const lines: string[] = [];
    for await (const line of exportLines(log, filter, range)) lines.push(line);
    return lines;
  };

  it("round-trips: every exported line is the record as written, with its id and hash, and the export verifies", async () => {
    const lines = await exported({ repository: "acme/platform/shop" });
    const parsed = lines.map((line) => exportedRecordSchema.parse(JSON.parse(line)));
    const byHash = (a: { hash: string }, b: { hash: string }) => a.hash.localeCompare(b.hash);
    assert.deepEqual(
      parsed.map(({ id, hash, record }) => ({ id, hash, record })).sort(byHash),
      written.map(({ id, hash, record }) => ({ id, hash, record })).sort(byHash),
    );
    const verdicts = verifyExport(lines);
    assert.deepEqual(
      verdicts.map((v) => [v.scope.environment, v.records, v.problems]),
      [
        ["production", 4, []],
        ["staging", 6, []],
      ],
    );
  });

  it("selects by environment and by time written", async () => {
    assert.equal((await exported({ environment: "production" })).length, 4);
    const sixth = written[5]?.id ?? "";
    const sinceMs = Number(sixth.split("-")[0]) + 1;
    const later = await exported({ repository: "acme/platform/shop" }, { sinceMs });
    assert.ok(later.every((line) => Number(exportedRecordSchema.parse(JSON.parse(line)).id.split("-")[0]) >= sinceMs));
    assert.deepEqual((await exported({}, { untilMs: 0 })).length, 0);
  });

  it("finds a line edited or removed in an archive", async () => {
    const lines = await exported({ environment: "staging", repository: "acme/platform/shop" });
    const edited = lines.map((line, i) => (i === 2 ? line.replace('"user-2"', '"mallory"') : line));
    assert.deepEqual(
      verifyExport(edited).flatMap((v) => v.problems.map((p) => p.message.replace(/[0-9a-f]{12}/g, "<hash>"))),
      ["its content does not match its hash <hash>: the record was edited"],
    );
    const removed = lines.filter((_, i) => i !== 3);
    assert.match(verifyExport(removed)[0]?.problems[0]?.message ?? "", /does not follow the record before it/);
    assert.match(verifyExport(["not json"]).at(-1)?.problems[0]?.message ?? "", /line 1: |not a valid audit record/);
  });

  it("reads a repository's newest records first, across its environments", async () => {
    const newest = await readHistory(log, { repository: "acme/platform/shop" }, 3);
    assert.deepEqual(
      newest.map((r) => r.sha),
      [9, 8, 7].map((i) => `${i}`.padStart(40, "0")),
    );
    assert.equal((await readHistory(log, { repository: "acme/platform/shop", environment: "staging" }, 50)).length, 6);
  });
});
