import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { stringify } from "yaml";
import { COMMAND_QUEUE, PLAN_QUEUE } from "../src/queue/plan-request.js";
import { configMapYaml, FerryHarness, FORGES } from "./support/ferry-harness.js";
import { AuditReader } from "./support/audit-records.js";
import { JobCounter } from "./support/job-counter.js";

const secretYaml = (name: string, data: Record<string, string>) =>
  stringify({ apiVersion: "v1", kind: "Secret", metadata: { name }, type: "Opaque", stringData: data });

for (const forge of FORGES)
  describe(`plan preview on changes (${forge})`, () => {
    let h: FerryHarness;
    let jobs: JobCounter;
    let audit: AuditReader;
    before(async () => {
      h = await FerryHarness.start(forge);
      jobs = JobCounter.open(h.redisUrl);
      audit = AuditReader.open(h.redisUrl);
    });
    after(async () => {
      audit?.close();
      await jobs?.close();
      await h?.close();
    });
    /** The id of the job a webhook's answer says it queued. */
    const queuedId = (answer: { status: number; body: string }): string => {
      assert.equal(answer.status, 202, answer.body);
      return (JSON.parse(answer.body) as { queued: string }).queued;
    };

    test("the plan comment's counts and diffs match what merging then does; a second push edits the same comment", async () => {
      const repo = await h.createRepo();
      const base = await h.merge(repo, {
        "deploy/keep.yaml": configMapYaml("keep", { v: "1" }),
        "deploy/change.yaml": configMapYaml("change", { color: "blue", size: "m" }),
        "deploy/remove.yaml": configMapYaml("remove", { v: "1" }),
      });
      await h.deliver(base.delivery);
      await h.finalStatus(repo, base.sha);

      const pr = await h.openPullRequest(repo, {
        "deploy/add.yaml": configMapYaml("add", { v: "1" }),
        "deploy/change.yaml": configMapYaml("change", { color: "green", size: "m" }),
        "deploy/remove.yaml": null,
      });
      assert.equal((await h.deliver(pr.delivery)).status, 202);
      const status = (await h.finalStatus(repo, pr.headSha, "ferry/plan/staging")).at(-1);
      assert.equal(status?.state, "success");
      assert.equal(status?.description, "+1 ~1 −1 (1 unchanged)");
      const [comment = ""] = await h.comments(repo, pr.number, /Ferry plan/);
      assert.match(comment, /^<!-- ferry:plan -->/);
      assert.match(comment, /\| staging \| test \| 1 \| 1 \| 1 \|/);
      assert.match(comment, /staging · \+ ConfigMap e2e-[0-9a-f]+\/add/);
      assert.match(comment, /staging · ~ ConfigMap e2e-[0-9a-f]+\/change/);
      assert.match(comment, /staging · − ConfigMap e2e-[0-9a-f]+\/remove/);
      assert.match(comment, /- {2}color: blue\n\+ {2}color: green/);
      assert.doesNotMatch(comment, /resourceVersion|managedFields|creationTimestamp/);
      assert.ok(status?.targetUrl, "the status links the full plan");
      const full = await (await h.page(status.targetUrl)).text();
      assert.match(full, /color: green/);

      // A second push edits the same comment in place; the new head's status reflects the new plan.
      const pushed = await h.pushToPullRequest(repo, pr, { "deploy/remove.yaml": configMapYaml("remove", { v: "1" }) });
      await h.deliver(pushed.delivery);
      assert.equal(
        (await h.finalStatus(repo, pushed.headSha, "ferry/plan/staging")).at(-1)?.description,
        "+1 ~1 −0 (2 unchanged)",
      );
      const comments = await h.comments(repo, pr.number, new RegExp(pushed.headSha.slice(0, 7)));
      assert.equal(comments.length, 1, "one sticky comment");
      assert.equal(h.rawComments(repo, pr.number)[0]?.edits, 1);

      // Merging does what the plan said.
      const merged = await h.mergePullRequest(repo, pushed);
      await h.deliver(merged.delivery);
      assert.match(
        (await h.finalStatus(repo, merged.sha)).at(-1)?.description ?? "",
        /^deployed: \+1 ~1 −0 \(2 unchanged\)/,
      );
      const live = await h.list("v1", "ConfigMap", repo.namespace);
      assert.deepEqual(live.get("change")?.data, { color: "green", size: "m" });
      assert.ok(live.has("add") && live.has("remove") && live.has("keep"));
    });

    test("objects in a namespace that does not exist yet plan as creates", async () => {
      const repo = await h.createRepo();
      const pr = await h.openPullRequest(repo, {
        "deploy/a.yaml": configMapYaml("a", { v: "1" }),
        "deploy/b.yaml": configMapYaml("b", { v: "1" }),
      });
      await h.deliver(pr.delivery);
      assert.equal(
        (await h.finalStatus(repo, pr.headSha, "ferry/plan/staging")).at(-1)?.description,
        "+2 ~0 −0 (0 unchanged)",
      );
      const [comment = ""] = await h.comments(repo, pr.number, /Ferry plan/);
      assert.ok(
        comment.includes(
          `**staging** (test): namespace ${repo.namespace} does not exist yet (a release creates it): its 2 objects are dry-run in ferry-validation`,
        ),
        comment,
      );
      assert.equal(await h.namespaceExists(repo.namespace), false, "planning wrote nothing");
    });

    test("a Secret whose value changed shows that the key changed and never a value, in the comment, statuses or logs", async () => {
      const repo = await h.createRepo();
      const base = await h.merge(repo, {
        "deploy/s.yaml": secretYaml("api", { TOKEN: "old-token-value-123", KEEP: "kept-value-456" }),
      });
      await h.deliver(base.delivery);
      await h.finalStatus(repo, base.sha);
      const pr = await h.openPullRequest(repo, {
        "deploy/s.yaml": secretYaml("api", {
          TOKEN: "new-token-value-789",
          KEEP: "kept-value-456",
          ADDED: "added-value-000",
        }),
      });
      await h.deliver(pr.delivery);
      await h.finalStatus(repo, pr.headSha, "ferry/plan/staging");
      const [comment = ""] = await h.comments(repo, pr.number, /Ferry plan/);
      assert.match(comment, /Secret e2e-[0-9a-f]+\/api \(values hidden\)/);
      assert.match(comment, /\+ {2}TOKEN: \(hidden, changed\)/);
      assert.match(comment, /\+ {2}ADDED: \(hidden, added\)/);
      const everything = [
        comment,
        ...h.statuses(repo).map((s) => JSON.stringify(s)),
        ...h.planResults(repo).map((s) => JSON.stringify(s)),
        ...h.logLines,
      ].join("\n");
      for (const value of ["old-token-value-123", "new-token-value-789", "kept-value-456", "added-value-000"]) {
        assert.ok(!everything.includes(value), `${value} leaked`);
        assert.ok(!everything.includes(Buffer.from(value).toString("base64")), `${value} leaked as base64`);
      }
    });

    test("a plan with a 2 MB diff stays within the forge's comment limit, says what it left out, and the full plan is served at the status URL", async () => {
      const limit = forge === "github" ? 65_536 : 1_000_000;
      const repo = await h.createRepo();
      // A ConfigMap holds at most 1 MiB, so the 2 MB diff is three large ones.
      const big = (n: number) =>
        Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`k${i}`, `${"x".repeat(100_000)}${n}${i}`]));
      const pr = await h.openPullRequest(repo, {
        "deploy/big-1.yaml": configMapYaml("big-1", big(1)),
        "deploy/big-2.yaml": configMapYaml("big-2", big(2)),
        "deploy/big-3.yaml": configMapYaml("big-3", big(3)),
        "deploy/small.yaml": configMapYaml("small", { v: "1" }),
      });
      await h.deliver(pr.delivery);
      const status = (await h.finalStatus(repo, pr.headSha, "ferry/plan/staging")).at(-1);
      const [comment = ""] = await h.comments(repo, pr.number, /Ferry plan/);
      assert.ok(comment.length <= limit, `comment is ${comment.length} characters`);
      assert.match(comment, /left out/);
      assert.match(comment, /ConfigMap e2e-[0-9a-f]+\/small/);
      assert.ok(status?.targetUrl?.startsWith(h.url), status?.targetUrl ?? "");
      const full = await (await h.page(status?.targetUrl ?? "")).text();
      assert.ok(full.length > 2_000_000, "the full plan has every line");
    });

    test("/ferry plan from a user without write access is refused and plans nothing; from a writer it is acknowledged and re-plans", async () => {
      const repo = await h.createRepo();
      h.forge.setAccess(repo.fullName, "reader", "read");
      h.forge.setAccess(repo.fullName, "writer", "write");
      const pr = await h.openPullRequest(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
      const command = queuedId(await h.deliver(h.comment(repo, pr, "reader", "/ferry plan")));
      // The command job is what would queue a plan; once it finished, whatever it queued has run too when the queues settle.
      assert.equal((await jobs.finished(COMMAND_QUEUE, command, 30_000)).state, "completed");
      await jobs.settled(30_000);
      assert.match(
        h
          .rawComments(repo, pr.number)
          .map((c) => c.body)
          .join("\n"),
        /@reader only people with write access/,
      );
      assert.deepEqual([...h.statuses(repo, pr.headSha), ...h.planResults(repo, pr.headSha)], [], "nothing planned");
      // The refusal is in the audit trail, under the repository as a whole (the command named no environment).
      assert.deepEqual(
        (await audit.records(forge, repo.fullName, "*")).map((r) => [
          r.action,
          r.actor,
          r.command,
          r.change,
          r.outcome,
        ]),
        [["refused-command", "reader", "/ferry plan", pr.number, "refused"]],
      );

      const request = h.comment(repo, pr, "writer", "/ferry plan staging");
      await h.deliver(request);
      assert.equal((await h.finalStatus(repo, pr.headSha, "ferry/plan/staging")).at(-1)?.state, "success");
      const writerComment = h.rawComments(repo, pr.number).find((c) => c.body === "/ferry plan staging");
      assert.deepEqual(writerComment?.reactions, ["eyes"]);
    });

    test("a pull request from a fork is not planned", async () => {
      const repo = await h.createRepo();
      const pr = await h.openPullRequest(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) }, { fromFork: true });
      // The plan job is queued, and is what would plan: it must finish having done nothing.
      const plan = queuedId(await h.deliver(pr.delivery));
      assert.equal((await jobs.finished(PLAN_QUEUE, plan, 30_000)).state, "completed");
      assert.deepEqual(
        [...h.statuses(repo, pr.headSha), ...h.planResults(repo, pr.headSha)],
        [],
        "no plan status on a fork's commit",
      );
      assert.deepEqual(h.rawComments(repo, pr.number), [], "no plan comment on a fork's change");
    });

    test("an older plan delivered after a newer one never overwrites the newer comment", async () => {
      const repo = await h.createRepo();
      const first = await h.openPullRequest(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
      const second = await h.pushToPullRequest(repo, first, { "deploy/a.yaml": configMapYaml("a", { v: "2" }) });
      await h.deliver(second.delivery);
      await h.finalStatus(repo, second.headSha, "ferry/plan/staging");
      // The older plan's job is what would overwrite the comment: wait until it finished.
      const older = queuedId(await h.deliver(first.delivery));
      assert.equal((await jobs.finished(PLAN_QUEUE, older, 60_000)).state, "completed");
      assert.equal(
        h
          .planResults(repo, first.headSha)
          .filter((s) => s.context === "ferry/plan/staging")
          .at(-1)?.state,
        "success",
        "the older commit is still planned",
      );
      const comments = h.rawComments(repo, first.number);
      assert.equal(comments.length, 1, "one sticky comment");
      assert.match(
        comments[0]?.body ?? "",
        new RegExp(second.headSha.slice(0, 7)),
        "the comment still shows the newer plan",
      );
    });

    test("the forge refused no status transition in this suite", () => {
      assert.deepEqual(h.forge.refusedTransitions(), []);
    });
  });
