import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { PLAN_QUEUE } from "../src/queue/plan-request.js";
import { AuditReader } from "./support/audit-records.js";
import type { HeldChange } from "./support/forge-doubles/forge-double.js";
import { GitHubDouble } from "./support/forge-doubles/github-double.js";
import { configMapYaml, FerryHarness, FORGES, type PullRequest, type TestRepo } from "./support/ferry-harness.js";
import { defaultInstallationPermissions } from "./support/github-simulator.js";
import { JobCounter } from "./support/job-counter.js";
import { waitUntil } from "./support/wait-until.js";

/** A change known only by its number, for commenting on it. */
const onChange = (number: number) => ({ number }) as PullRequest;

for (const forge of FORGES)
  describe(`/ferry rollback (${forge})`, () => {
    let h: FerryHarness;
    let audit: AuditReader;
    let jobs: JobCounter;
    before(async () => {
      h = await FerryHarness.start(forge);
      audit = AuditReader.open(h.redisUrl);
      jobs = JobCounter.open(h.redisUrl);
    });
    after(async () => {
      audit?.close();
      await jobs?.close();
      await h?.close();
    });
    const ref = (n: number) => `${forge === "gitlab" ? "!" : "#"}${n}`;
    const bot = () => (forge === "github" ? "ferry[bot]" : "ferry-bot");

    /** Merges a change writing `files` and waits for its release. */
    async function release(repo: TestRepo, files: Record<string, string | null>) {
      const merge = await h.merge(repo, files);
      assert.equal((await h.deliver(merge.delivery)).status, 202);
      assert.equal((await h.finalStatus(repo, merge.sha)).at(-1)?.state, "success");
      return merge;
    }

    /** Writes `/ferry …` on `change` as `user` and waits for Ferry's answer matching `pattern`. */
    async function ask(repo: TestRepo, change: number, user: string, command: string, pattern: RegExp) {
      await h.deliver(h.comment(repo, onChange(change), user, command));
      const bodies = await h.comments(repo, change, pattern, 60_000);
      return bodies.find((b) => pattern.test(b)) ?? "";
    }

    /** The revert an answer links to, as the forge holds it; the harness numbers its own changes after it. */
    function revertIn(repo: TestRepo, answer: string): HeldChange {
      const number = Number(/\[[#!](\d+)\]\(/.exec(answer)?.[1]);
      const held = h.forge.change(repo.fullName, number);
      assert.ok(held, `no change ${number} on the forge (answer: ${answer})`);
      repo.nextChange = Math.max(repo.nextChange, number + 1);
      return held;
    }

    test("rollback opens the revert, which is planned, and merging it deploys the old state; asking again points at it", async () => {
      const repo = await h.createRepo();
      await release(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
      const bad = await release(repo, {
        "deploy/a.yaml": configMapYaml("a", { v: "2" }),
        "deploy/b.yaml": configMapYaml("b", { v: "1" }),
      });
      h.forge.setAccess(repo.fullName, "lead", "write");

      const answer = await ask(repo, bad.number, "lead", "/ferry rollback staging", /to roll this change back/);
      const revert = revertIn(repo, answer);
      assert.equal(revert.author, bot());
      assert.equal(revert.merged, false);
      assert.match(revert.title, /^Revert "(Pull|Merge) request [#!]\d+"$/);
      assert.match(revert.body, new RegExp(`Reverts \\${ref(bad.number)} .*merged as \`${bad.sha.slice(0, 7)}\``));
      assert.match(revert.body, /as @lead asked with `\/ferry rollback staging`/);
      assert.match(revert.body, new RegExp(`- staging: \`${bad.sha.slice(0, 7)}\` succeeded \\(\\[rollout\\]`));

      // Its plan: the rollback sets a back and prunes b.
      const [plan = ""] = (await h.comments(repo, revert.number, /Ferry plan/, 60_000)).filter((b) =>
        /Ferry plan/.test(b),
      );
      assert.match(plan, new RegExp(`Ferry plan · \`${revert.headSha.slice(0, 7)}\``));
      assert.match(plan, /\| staging \| test \| 0 \| 1 \| 1 \|/);
      // The forge announces the change the app opened, as any other: that webhook's plan is the one Ferry queued.
      const opened = await h.deliver(h.forge.changeEvent(repo.fullName, revert, "opened"));
      const planId = (JSON.parse(opened.body) as { queued: string }).queued;
      const adds = await jobs.adds(PLAN_QUEUE, [planId], 30_000);
      assert.deepEqual([adds.queued, adds.dropped], [[planId], 1], "one plan of the revert's head");

      const merged = await h.mergePullRequest(repo, { ...onChange(revert.number), ...revert, fromFork: false });
      assert.equal((await h.deliver(merged.delivery)).status, 202);
      assert.equal((await h.finalStatus(repo, merged.sha)).at(-1)?.state, "success");
      const live = await h.list("v1", "ConfigMap", repo.namespace);
      assert.deepEqual(live.get("a")?.data, { v: "1" });
      assert.ok(!live.has("b"), "b, which the reverted change added, is pruned");

      const again = await ask(repo, bad.number, "lead", "/ferry rollback", /already rolled back/);
      assert.match(again, new RegExp(`\\[\\${ref(revert.number)}\\]\\(.*\\) reverted it and is merged`));
      const records = (await audit.records(forge, repo.fullName, "staging")).filter((r) => r.action === "revert");
      assert.equal(records.length, 1, "asking again is answered, not recorded");
      assert.deepEqual(
        [records[0]?.actor, records[0]?.change, records[0]?.sha, records[0]?.outcome, records[0]?.command],
        ["lead", bad.number, bad.sha, "opened", "/ferry rollback staging"],
      );
      assert.match(records[0]?.reason ?? "", new RegExp(`^\\${ref(revert.number)} reverts \\${ref(bad.number)}`));
    });

    test("--merge merges the revert when the forge lets the app, and reports the refusal when it does not", async () => {
      const repo = await h.createRepo();
      await release(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
      const second = await release(repo, { "deploy/a.yaml": configMapYaml("a", { v: "2" }) });
      h.forge.setAccess(repo.fullName, "lead", "write");

      const answer = await ask(repo, second.number, "lead", "/ferry rollback --merge", /opened and merged/);
      const revert = revertIn(repo, answer);
      assert.equal(revert.merged, true);
      assert.ok(revert.mergeSha);
      // The forge announces the merge it made for the app, as any merge.
      assert.equal((await h.deliver(h.forge.mergedEvent(repo.fullName, revert))).status, 202);
      assert.equal((await h.finalStatus(repo, revert.mergeSha)).at(-1)?.state, "success");
      assert.deepEqual((await h.list("v1", "ConfigMap", repo.namespace)).get("a")?.data, { v: "1" });
      const [record] = (await audit.records(forge, repo.fullName, "staging")).filter((r) => r.action === "revert");
      assert.deepEqual([record?.outcome, record?.command], ["merged", "/ferry rollback --merge"]);

      h.forge.refuseMerges(repo.fullName, "main");
      const third = await release(repo, { "deploy/a.yaml": configMapYaml("a", { v: "3" }) });
      const refused = await ask(repo, third.number, "lead", "/ferry rollback --merge", /would not let Ferry merge it/);
      assert.match(
        refused,
        forge === "github" ? /> 405 At least 1 approving review is required/ : /> 405 Method Not Allowed/,
      );
      const open = revertIn(repo, refused);
      assert.equal(open.merged, false);
      const twice = await ask(repo, third.number, "lead", "/ferry rollback", /rollback is already open/);
      assert.match(twice, new RegExp(`\\[\\${ref(open.number)}\\]`));
      const outcomes = (await audit.records(forge, repo.fullName, "staging"))
        .filter((r) => r.action === "revert")
        .map((r) => r.outcome);
      assert.deepEqual(outcomes, ["merged", "merge-refused"]);
    });

    test("refusals: not merged, no write access, never released there, and a revert that conflicts with later changes", async () => {
      const repo = await h.createRepo();
      h.forge.setAccess(repo.fullName, "lead", "write");
      h.forge.setAccess(repo.fullName, "reader", "read");
      const first = await h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
      await h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "2" }) });
      const open = await h.openPullRequest(repo, { "deploy/c.yaml": configMapYaml("c", { v: "1" }) });

      await ask(repo, open.number, "lead", "/ferry rollback", /not merged yet; there is nothing to roll back/);
      await ask(repo, first.number, "reader", "/ferry rollback", /only people with write access .* `\/ferry rollback`/);
      await ask(repo, first.number, "lead", "/ferry rollback production", /never released to production/);
      const conflict = await ask(repo, first.number, "lead", "/ferry rollback", /could not revert .* automatically/);
      assert.match(
        conflict,
        forge === "github"
          ? /> Sorry, this pull request couldn’t be reverted automatically\./
          : /> Sorry, we cannot revert this commit automatically\./,
      );
      assert.match(conflict, new RegExp(`\`git revert -m 1 ${first.sha}\``));

      // Each answer is written after anything the command did, so no revert was opened by any of them.
      for (let n = 1; n <= repo.nextChange + 2; n++)
        assert.notEqual(h.forge.change(repo.fullName, n)?.author, bot(), `change ${n} was opened by Ferry`);
      const records = await audit.records(forge, repo.fullName);
      assert.deepEqual(
        records.map((r) => [r.action, r.outcome, r.actor]),
        [
          ["refused-command", "refused", "reader"],
          ["revert", "failed", "lead"],
        ],
      );
      assert.match(records[1]?.reason ?? "", /automatically/);
    });
    test("two requests at once open one revert; the other is told it is being opened or already open", async () => {
      const repo = await h.createRepo();
      h.forge.setAccess(repo.fullName, "lead", "write");
      h.forge.setAccess(repo.fullName, "other", "write");
      const merged = await h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
      await Promise.all([
        h.deliver(h.comment(repo, onChange(merged.number), "lead", "/ferry rollback")),
        h.deliver(h.comment(repo, onChange(merged.number), "other", "/ferry rollback")),
      ]);
      const answers = () => h.rawComments(repo, merged.number).filter((c) => /^@(lead|other) /m.test(c.body));
      await waitUntil(
        () => `two answers on ${ref(merged.number)} (got ${JSON.stringify(answers())})`,
        () => answers().length === 2,
        60_000,
      );
      const bodies = answers().map((c) => c.body);
      assert.equal(bodies.filter((b) => /to roll this change back/.test(b)).length, 1, bodies.join("\n---\n"));
      assert.equal(bodies.filter((b) => /being opened right now|rollback is already open/.test(b)).length, 1);
      const opened: number[] = [];
      for (let n = 1; n <= repo.nextChange + 3; n++)
        if (h.forge.change(repo.fullName, n)?.author === bot()) opened.push(n);
      assert.equal(opened.length, 1, `Ferry opened ${JSON.stringify(opened)}`);
    });

    if (forge === "github")
      test("an app without contents: write gets GitHub's refusal and the permission to add, recorded", async () => {
        const { sim } = h.forge as GitHubDouble;
        const repo = await h.createRepo();
        h.forge.setAccess(repo.fullName, "lead", "write");
        const merged = await h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
        sim.setInstallationPermissions(1, { ...defaultInstallationPermissions, contents: "read" });
        try {
          const answer = await ask(repo, merged.number, "lead", "/ferry rollback", /could not roll this change back/);
          assert.match(answer, /Resource not accessible by integration \(the GitHub App needs "contents: write"/);
        } finally {
          sim.setInstallationPermissions(1, { ...defaultInstallationPermissions });
        }
        const [record] = await audit.records(forge, repo.fullName, "*");
        assert.deepEqual([record?.action, record?.outcome], ["revert", "failed"]);
        assert.match(record?.reason ?? "", /contents: write/);
      });
  });
