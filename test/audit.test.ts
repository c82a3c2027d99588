import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import type { AuditRecord } from "../src/audit/audit-record.js";
import { auditStreamKey } from "../src/audit/audit-scope.js";
import { exportedRecordSchema } from "../src/audit/export-records.js";
import { COMMAND_QUEUE } from "../src/queue/plan-request.js";
import { RolloutStore } from "../src/rollout/rollout-store.js";
import { AuditReader } from "./support/audit-records.js";
import { configMapYaml, FerryHarness, FORGES, TEST_CLUSTER, type TestRepo } from "./support/ferry-harness.js";
import { JobCounter } from "./support/job-counter.js";
import { waitUntil } from "./support/wait-until.js";
import { deploymentYaml } from "./support/workloads.js";

const ROOT = new URL("..", import.meta.url).pathname;

/** Runs the real `ferry` CLI against `redisUrl`; its exit code, stdout and stderr. */
async function ferry(redisUrl: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(ROOT, "bin/ferry.js"), ...args], {
      cwd: ROOT,
      env: { ...process.env, REDIS_URL: redisUrl },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, out: stdout, err: stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout, err: e.stderr };
  }
}

for (const forge of FORGES)
  describe(`audit trail (${forge})`, () => {
    let h: FerryHarness;
    let jobs: JobCounter;
    let audit: AuditReader;
    let work: string;
    before(async () => {
      h = await FerryHarness.start(forge);
      jobs = JobCounter.open(h.redisUrl);
      audit = AuditReader.open(h.redisUrl);
      work = await mkdtemp(join(tmpdir(), "ferry-audit-"));
    });
    after(async () => {
      audit?.close();
      await jobs?.close();
      await h?.close();
      await rm(work, { recursive: true, force: true });
    });

    const recordsOf = (repo: TestRepo, environment?: string) => audit.records(forge, repo.fullName, environment);
    /** Waits until the repository's records hold one matching `match`; returns them all. */
    const recorded = async (repo: TestRepo, what: string, match: (r: AuditRecord) => boolean) => {
      let seen: AuditRecord[] = [];
      await waitUntil(
        () => `no audit record of ${what} (have ${JSON.stringify(seen.map((r) => [r.action, r.outcome, r.sha]))})`,
        async () => (seen = await recordsOf(repo)).some(match),
        60_000,
        100,
      );
      return seen;
    };

    test("a merge's release and rollout, and a refused command, become records chained in their environment", async () => {
      const repo = await h.createRepo();
      const first = await h.merge(repo, {
        "deploy/a.yaml": configMapYaml("a", { v: "1" }),
        "deploy/b.yaml": configMapYaml("b", { v: "1" }),
      });
      await h.deliver(first.delivery);
      assert.equal((await h.finalStatus(repo, first.sha)).at(-1)?.state, "success");
      const second = await h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "2" }), "deploy/b.yaml": null });
      await h.deliver(second.delivery);
      assert.equal((await h.finalStatus(repo, second.sha)).at(-1)?.state, "success");
      const rollout = await new RolloutStore(audit.connection).get(
        (await new RolloutStore(audit.connection).idOf({ forge, fullName: repo.fullName }, "staging", second.sha)) ??
          "",
      );
      const records = await recorded(repo, "the second rollout", (r) => r.action === "rollout" && r.sha === second.sha);

      const releases = records.filter((r) => r.action === "release");
      const ns = repo.namespace;
      assert.deepEqual(
        releases.map((r) => [r.sha, r.outcome, r.cluster, r.change]),
        [
          [first.sha, "released", TEST_CLUSTER, first.number],
          [second.sha, "released", TEST_CLUSTER, second.number],
        ],
      );
      const [created, changed] = releases.map((r) => r.objects);
      assert.ok(created?.created.includes(`ConfigMap ${ns}/a`) && created.created.includes(`ConfigMap ${ns}/b`));
      assert.deepEqual(
        [changed?.created, changed?.configured, changed?.pruned],
        [[], [`ConfigMap ${ns}/a`], [`ConfigMap ${ns}/b`]],
      );
      for (const r of releases) {
        assert.equal(r.actor, rollout?.actor, "the merger");
        assert.ok(
          r.queuedAt && r.startedAt && r.queuedAt <= r.startedAt && r.startedAt <= r.finishedAt,
          JSON.stringify(r),
        );
      }
      assert.deepEqual(
        records.filter((r) => r.action === "rollout").map((r) => [r.sha, r.outcome, r.reason]),
        [
          [first.sha, "succeeded", "1 cluster: 1 released"],
          [second.sha, "succeeded", "1 cluster: 1 released"],
        ],
      );
      // One chain: each record carries the hash of the one before it, the first none.
      assert.equal(records[0]?.prevHash, "");
      assert.ok(records.slice(1).every((r) => /^[0-9a-f]{64}$/.test(r.prevHash)));

      h.forge.setAccess(repo.fullName, "reader", "read");
      const answer = await h.deliver(h.comment(repo, { number: second.number } as never, "reader", "/ferry abort"));
      const command = (JSON.parse(answer.body) as { queued: string }).queued;
      assert.equal((await jobs.finished(COMMAND_QUEUE, command, 30_000)).state, "completed");
      const refused = (await recordsOf(repo, "*")).filter((r) => r.action === "refused-command");
      assert.deepEqual(
        refused.map((r) => [r.actor, r.command, r.change, r.outcome, r.reason]),
        [
          [
            "reader",
            "/ferry abort",
            second.number,
            "refused",
            "reader has read access; the command needs write access",
          ],
        ],
      );

      const history = await ferry(h.redisUrl, "history", "--repo", repo.fullName);
      assert.equal(history.code, 0, history.err);
      const lines = history.out.trim().split("\n");
      assert.match(
        lines[0] ?? "",
        /^FINISHED \(UTC\) +ENV +CLUSTER +ACTION +OUTCOME +COMMIT +WHO +CHANGE +OBJECTS +REASON$/,
      );
      assert.match(lines[1] ?? "", new RegExp(`\\* +- +refused-command +refused +- +reader +#${second.number}`));
      assert.ok(
        lines.some((l) =>
          new RegExp(`staging +${TEST_CLUSTER} +release +released +${second.sha.slice(0, 7)} .* \\+0 ~1 −1`).test(l),
        ),
        history.out,
      );
      const staging = await ferry(h.redisUrl, "history", "--repo", repo.fullName, "--env", "staging", "--json");
      assert.equal(staging.out.trim().split("\n").length, 4, staging.out);
    });

    test("a failed release rolled back, and a rollout aborted while it waits, are recorded with who and why", async () => {
      const repo = await h.createRepo({
        environments: (namespace) => [
          {
            name: "staging",
            branch: "main",
            path: "deploy",
            cluster: TEST_CLUSTER,
            namespace,
            onFailure: "rollback",
            wait: { timeout: "2m" },
          },
          {
            name: "production",
            branch: "main",
            path: "deploy",
            cluster: TEST_CLUSTER,
            namespace: `${namespace}-prod`,
            after: "staging",
          },
        ],
      });
      const good = await h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
      await h.deliver(good.delivery);
      assert.equal((await h.finalStatus(repo, good.sha, "ferry/deploy/production")).at(-1)?.state, "success");
      // The pods of `web` fit no node: staging fails at the progress deadline, while production waits for it.
      const bad = await h.merge(repo, {
        "deploy/web.yaml": deploymentYaml("web", { nodes: "none", progressDeadlineSeconds: 20 }),
      });
      await h.deliver(bad.delivery);
      const store = new RolloutStore(audit.connection);
      await waitUntil(
        "production's rollout of the bad commit never waited for staging",
        async () => {
          const id = await store.idOf({ forge, fullName: repo.fullName }, "production", bad.sha);
          return id !== undefined && (await store.get(id))?.state === "waiting";
        },
        60_000,
      );
      h.forge.setAccess(repo.fullName, "lead", "write");
      await h.deliver(h.comment(repo, { number: bad.number } as never, "lead", "/ferry abort production"));
      await h.finalStatus(repo, bad.sha, "ferry/deploy/staging", 120_000);
      const records = await recorded(
        repo,
        "the aborted rollout",
        (r) => r.action === "rollout" && r.outcome === "aborted",
      );
      const staging = await recorded(repo, "the rollback", (r) => r.action === "rollback");

      const abort = records.find((r) => r.action === "abort");
      assert.deepEqual(
        [abort?.actor, abort?.environment, abort?.sha, abort?.command, abort?.outcome],
        ["lead", "production", bad.sha, "/ferry abort production", "aborted"],
      );
      const aborted = records.find(
        (r) => r.action === "rollout" && r.environment === "production" && r.sha === bad.sha,
      );
      assert.match(aborted?.reason ?? "", /aborted by @lead/);
      const failed = staging.find((r) => r.action === "release" && r.sha === bad.sha);
      assert.equal(failed?.outcome, "failed");
      assert.match(failed?.reason ?? "", /Deployment .*web/);
      assert.deepEqual(failed?.objects?.created, [`Deployment ${repo.namespace}/web`]);
      const rollback = staging.find((r) => r.action === "rollback");
      assert.deepEqual(
        [rollback?.sha, rollback?.outcome, rollback?.cluster, rollback?.objects?.pruned],
        [good.sha, "success", TEST_CLUSTER, [`Deployment ${repo.namespace}/web`]],
      );
      assert.match(rollback?.reason ?? "", new RegExp(`after the failed release of ${bad.sha}`));
    });

    test("ferry audit verify finds one edited record; an export round-trips and verifies on its own", async () => {
      const repo = await h.createRepo();
      for (let i = 1; i <= 3; i++) {
        const merge = await h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: String(i) }) });
        await h.deliver(merge.delivery);
        assert.equal((await h.finalStatus(repo, merge.sha)).at(-1)?.state, "success");
      }
      await recorded(repo, "three rollouts", (r) => r.action === "rollout" && r.outcome === "succeeded");
      await waitUntil("six records", async () => (await recordsOf(repo)).length === 6, 30_000);

      const intact = await ferry(h.redisUrl, "audit", "verify", "--repo", repo.fullName);
      assert.equal(intact.code, 0, intact.out + intact.err);
      assert.match(
        intact.out,
        new RegExp(`^ok +${forge} ${repo.fullName} staging: 6 records, head [0-9a-f]{64}$`, "m"),
      );
      assert.match(intact.out, /1 environments, 6 records: every chain is intact/);

      const exported = await ferry(h.redisUrl, "audit", "export", "--repo", repo.fullName, "--since", "1d");
      assert.equal(exported.code, 0, exported.err);
      const lines = exported.out.trim().split("\n");
      const parsed = lines.map((line) => exportedRecordSchema.parse(JSON.parse(line)));
      assert.deepEqual(
        parsed.map((p) => p.record),
        await recordsOf(repo),
      );
      const archive = join(work, `${forge}.jsonl`);
      await writeFile(archive, exported.out);
      const archived = await ferry(h.redisUrl, "audit", "verify", "--file", archive);
      assert.equal(archived.code, 0, archived.out);
      const none = await ferry(h.redisUrl, "audit", "export", "--repo", repo.fullName, "--until", "2000-01-01");
      assert.equal(none.out, "");

      // An intruder changes who released the second record, keeping its ids and stored hash.
      const scope = { forge, repository: repo.fullName, environment: "staging" };
      const stream = auditStreamKey(scope);
      const redis = audit.connection;
      const entries = await redis.xrange(stream, "-", "+");
      const victim = entries[1]?.[0] ?? "";
      const original = parsed[1]?.record.actor ?? "";
      await redis.del(stream);
      for (const [id, fields] of entries) {
        const text = fields[1] ?? "";
        const edited = id === victim ? text.replace(`"actor":"${original}"`, '"actor":"someone-else"') : text;
        await redis.xadd(stream, id, "r", edited, "h", fields[3] ?? "");
      }
      const broken = await ferry(h.redisUrl, "audit", "verify");
      assert.equal(broken.code, 1, broken.out + broken.err);
      assert.match(broken.out, new RegExp(`^BROKEN +${forge} ${repo.fullName} staging: 6 records`, "m"));
      assert.match(
        broken.out,
        new RegExp(`^ +${victim}: its content does not match its hash [0-9a-f]{12}: the record was edited$`, "m"),
      );
      assert.match(broken.out, /1 of \d+ environments have a broken chain/);

      await writeFile(archive, lines.map((l, i) => (i === 4 ? "" : l)).join("\n"));
      const gap = await ferry(h.redisUrl, "audit", "verify", "--file", archive);
      assert.equal(gap.code, 1, gap.out);
      assert.match(gap.out, /does not follow the record before it/);
    });
  });
