import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Redis } from "ioredis";
import { startTestRedis } from "../../test/support/redis.js";
import { waitUntil } from "../../test/support/wait-until.js";
import { connectRedis } from "../queue/redis-connection.js";
import { AuditLog } from "./audit-log.js";
import type { AuditEntry } from "./audit-record.js";
import { auditStreamKey, type AuditScope } from "./audit-scope.js";
import { recordHash } from "./record-hash.js";
import { verifyStoredChain } from "./verify-chain.js";

const DAY = 86_400_000;

describe("AuditLog", () => {
  let server: Awaited<ReturnType<typeof startTestRedis>>;
  // Two connections, as two worker processes would hold them.
  let a: Redis;
  let b: Redis;
  let n = 0;
  /** A repository no other test uses. */
  const repository = () => `acme/audit-${++n}`;
  const entry = (repo: string, extra: Partial<AuditEntry> = {}): AuditEntry => ({
    action: "release",
    actor: "alice",
    forge: "github",
    repository: repo,
    environment: "staging",
    cluster: "eu-1",
    sha: "0123456789abcdef0123456789abcdef01234567",
    finishedAt: new Date().toISOString(),
    outcome: "released",
    ...extra,
  });
  const scopeOf = (repo: string): AuditScope => ({ forge: "github", repository: repo, environment: "staging" });

  before(async () => {
    server = await startTestRedis();
    a = connectRedis(server.url);
    b = connectRedis(server.url);
  });
  after(async () => {
    a.disconnect();
    b.disconnect();
    await server.stop();
  });

  it("chains each record to the one before it in its environment, and indexes the environment", async () => {
    const log = new AuditLog(a, { retentionMs: 400 * DAY });
    const repo = repository();
    const first = await log.append(entry(repo));
    const second = await log.append(entry(repo, { outcome: "failed", reason: "Deployment shop/web: timed out" }));
    assert.equal(first.record.prevHash, "");
    assert.equal(second.record.prevHash, first.hash);
    assert.equal(second.hash, recordHash(second.record));
    assert.equal((await log.chainEnds(scopeOf(repo))).head, second.hash);
    assert.ok((await log.scopes()).some((s) => s.repository === repo && s.environment === "staging"));
    const verdict = await verifyStoredChain(log, scopeOf(repo));
    assert.deepEqual(verdict.problems, []);
    assert.equal(verdict.records, 2);
  });

  it("never forks the chain when two writers append at once", async () => {
    const repo = repository();
    const first = new AuditLog(a, { retentionMs: DAY });
    const second = new AuditLog(b, { retentionMs: DAY });
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? first : second).append(entry(repo, { actor: `user-${i}` }))),
    );
    const verdict = await verifyStoredChain(first, scopeOf(repo));
    assert.deepEqual(verdict.problems, []);
    assert.equal(verdict.records, 200);
  });

  it("finds a record edited, removed or added behind Ferry's back", async () => {
    const log = new AuditLog(a, { retentionMs: DAY });
    const edited = repository();
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await log.append(entry(edited, { actor: `user-${i}` }))).id);
    const stream = auditStreamKey(scopeOf(edited));
    // Rewrite the stream with the third record's actor changed (same ids, same stored hashes).
    const all = await a.xrange(stream, "-", "+");
    await a.del(stream);
    for (const [id, fields] of all) {
      const text = fields[1] ?? "";
      await a.xadd(stream, id, "r", id === ids[2] ? text.replace("user-2", "mallory") : text, "h", fields[3] ?? "");
    }
    const editedVerdict = await verifyStoredChain(log, scopeOf(edited));
    assert.deepEqual(
      editedVerdict.problems.map((p) => [p.id, p.message.replace(/[0-9a-f]{12}/, "<hash>")]),
      [[ids[2], "its content does not match its hash <hash>: the record was edited"]],
    );

    const removed = repository();
    const kept = [];
    for (let i = 0; i < 4; i++) kept.push((await log.append(entry(removed))).id);
    await a.xdel(auditStreamKey(scopeOf(removed)), kept[1] ?? "");
    const removedVerdict = await verifyStoredChain(log, scopeOf(removed));
    assert.equal(removedVerdict.problems.length, 1);
    assert.equal(removedVerdict.problems[0]?.id, kept[2]);
    assert.match(removedVerdict.problems[0]?.message ?? "", /does not follow the record before it/);

    await a.xdel(auditStreamKey(scopeOf(removed)), kept[3] ?? "");
    assert.match(
      (await verifyStoredChain(log, scopeOf(removed))).problems.at(-1)?.message ?? "",
      /the chain's head is [0-9a-f]{12} but its last record hashes to [0-9a-f]{12}: records after .* were removed/,
    );

    const added = repository();
    await log.append(entry(added));
    await a.xadd(auditStreamKey(scopeOf(added)), "*", "r", "{}", "h", "");
    assert.match(
      (await verifyStoredChain(log, scopeOf(added))).problems[0]?.message ?? "",
      /comes after the chain's head: it was not appended by Ferry/,
    );
  });

  it("trims records past the retention, keeping the last one removed as the anchor verify starts from", async () => {
    // Stream ids are Redis's clock: the log's clock runs a retention ahead, so records older than a millisecond go.
    let ahead = DAY - 1;
    const log = new AuditLog(a, { retentionMs: DAY, now: () => Date.now() + ahead });
    const keep = new AuditLog(a, { retentionMs: DAY });
    const repo = repository();
    const old = [];
    for (let i = 0; i < 3; i++) old.push(await keep.append(entry(repo)));
    const written = Date.now();
    await waitUntil("a few milliseconds passed", () => Date.now() > written + 5, 1_000, 1);
    const fresh = await log.append(entry(repo));
    assert.deepEqual(
      (await a.xrange(auditStreamKey(scopeOf(repo)), "-", "+")).map(([id]) => id),
      [fresh.id],
    );
    assert.deepEqual(await log.chainEnds(scopeOf(repo)), {
      head: fresh.hash,
      anchor: old[2]?.hash,
      anchorId: old[2]?.id,
    });
    assert.deepEqual((await verifyStoredChain(log, scopeOf(repo))).problems, []);

    // An environment that writes nothing new is trimmed by trimAll, to an empty chain that still verifies.
    ahead = DAY + 60_000;
    assert.ok((await log.trimAll()) >= 1);
    const verdict = await verifyStoredChain(log, scopeOf(repo));
    assert.deepEqual(verdict.problems, []);
    assert.equal(verdict.records, 0);
    assert.equal(verdict.head, fresh.hash);
  });

  it("starts the chain again, indexed, when Redis lost it (a restore from an older backup)", async () => {
    const log = new AuditLog(a, { retentionMs: DAY });
    const repo = repository();
    await log.append(entry(repo));
    await a.flushall();
    const again = await log.append(entry(repo));
    assert.equal(again.record.prevHash, "");
    assert.ok((await log.scopes()).some((s) => s.repository === repo));
    assert.deepEqual((await verifyStoredChain(log, scopeOf(repo))).problems, []);
  });

  it("refuses a record that does not fit the format, writing nothing", async () => {
    const log = new AuditLog(a, { retentionMs: DAY });
    const repo = repository();
    await assert.rejects(log.append(entry(repo, { finishedAt: "yesterday" })), /finishedAt/);
    assert.equal(await a.exists(auditStreamKey(scopeOf(repo))), 0);
  });
});
