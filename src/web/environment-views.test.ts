import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { startTestRedis } from "../../test/support/redis.js";
import { AuditLog } from "../audit/audit-log.js";
import type { AuditEntry } from "../audit/audit-record.js";
import type { RolloutState } from "../domain/rollout.js";
import { driftVerdictsKey } from "../report/drift-reporter.js";
import type { RolloutStore } from "../rollout/rollout-store.js";
import { EnvironmentViews } from "./environment-views.js";

const NOW = Date.parse("2026-12-06T10:00:00Z");

/** Only what the views read of rollouts: the environment's current one and its state. */
function rolloutsWith(current: Map<string, RolloutState>): RolloutStore {
  return {
    current: (repo: { fullName: string }, env: string) =>
      Promise.resolve(current.has(`${repo.fullName}/${env}`) ? `${repo.fullName}/${env}` : undefined),
    summary: (id: string) => Promise.resolve({ state: current.get(id), sha: "c".repeat(40) }),
    clusters: () => Promise.resolve([]),
  } as unknown as RolloutStore;
}

const release = (repository: string, outcome: string, sha: string): AuditEntry => ({
  action: "release",
  actor: "octocat",
  forge: "github",
  repository,
  environment: "staging",
  cluster: "eu-1",
  sha,
  finishedAt: new Date(NOW).toISOString(),
  outcome,
});

describe("EnvironmentViews", () => {
  let server: Awaited<ReturnType<typeof startTestRedis>>;
  let redis: Redis;
  let log: AuditLog;
  before(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
    log = new AuditLog(redis, { retentionMs: 400 * 86_400_000 });
  });
  after(async () => {
    await redis?.quit();
    await server?.stop();
  });

  it("says in sync, failed, unreachable, drifted or releasing, with the commit last released", async () => {
    await log.append(release("acme/ok", "released", "a".repeat(40)));
    await log.append(release("acme/bad", "released", "a".repeat(40)));
    await log.append(release("acme/bad", "failed", "b".repeat(40)));
    await log.append(release("acme/edge", "released", "c".repeat(40)));
    await log.append(release("acme/edge", "unreachable", "f".repeat(40)));
    await log.append(release("acme/drift", "released", "d".repeat(40)));
    await log.append(release("acme/busy", "released", "e".repeat(40)));
    const verdict = { cluster: "eu-1", sha: "d".repeat(40), drifted: 2, checkedAt: NOW, until: NOW + 60_000 };
    await redis.hset(
      driftVerdictsKey({ forge: "github", fullName: "acme/drift" }, "staging"),
      "eu-1",
      JSON.stringify(verdict),
    );
    const views = new EnvironmentViews(
      log,
      rolloutsWith(new Map([["acme/busy/staging", "running"]])),
      redis,
      () => NOW,
    );
    const states = new Map<string, [string, string | undefined]>();
    for (const scope of await views.scopes()) {
      const s = await views.summary(scope);
      states.set(s.repository, [s.state, s.commit?.slice(0, 1)]);
    }
    assert.deepEqual(Object.fromEntries(states), {
      "acme/bad": ["failed", "a"],
      "acme/busy": ["releasing", "e"],
      "acme/drift": ["drifted", "d"],
      "acme/edge": ["unreachable", "c"],
      "acme/ok": ["in sync", "a"],
    });
    const later = new EnvironmentViews(log, rolloutsWith(new Map()), redis, () => NOW + 120_000);
    const drift = (await later.scopes()).find((s) => s.repository === "acme/drift");
    assert.equal(drift && (await later.summary(drift)).state, "in sync", "a verdict past its `until` no longer counts");
  });

  it("pages history newest first, each page before the last record of the one above", async () => {
    for (let i = 0; i < 7; i++) await log.append(release("acme/paged", "released", String(i).repeat(40)));
    const views = new EnvironmentViews(log, rolloutsWith(new Map()), redis, () => NOW);
    const scope = { forge: "github" as const, repository: "acme/paged", environment: "staging" };
    const shas: string[] = [];
    let before: string | undefined;
    for (let page = 0; page < 5; page++) {
      const detail = await views.detail(scope, 3, before);
      assert.ok(detail);
      shas.push(...detail.history.map((r) => r.record.sha?.slice(0, 1) ?? ""));
      before = detail.nextBefore;
      if (before === undefined) break;
    }
    assert.deepEqual(shas, ["6", "5", "4", "3", "2", "1", "0"]);
    assert.equal(await views.detail({ ...scope, environment: "nope" }, 3), undefined);
  });
});
