import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { stringify } from "yaml";
import { DEPLOY_QUEUE } from "../src/queue/deploy-request.js";
import { AuditReader } from "./support/audit-records.js";
import type { SeenStatus } from "./support/forge-doubles/forge-double.js";
import { configMapYaml, FerryHarness, FORGES } from "./support/ferry-harness.js";
import { JobCounter } from "./support/job-counter.js";
import { editByHand } from "./support/kube.js";

/** The states a commit's deploy status went through, in order. */
const states = (statuses: SeenStatus[]) => statuses.map((s) => s.state);

for (const forge of FORGES)
  describe(`merge to deploy (${forge})`, () => {
    let h: FerryHarness;
    let jobs: JobCounter;
    let audit: AuditReader;
    before(async () => {
      h = await FerryHarness.start(forge);
      jobs = JobCounter.open(h.redisTarget);
      audit = AuditReader.open(h.redisTarget);
    });
    after(async () => {
      audit?.close();
      await jobs?.close();
      await h?.close();
    });
    // The final status, after `queued` (and `deploying`: GitHub has no `running` state, Ferry says
    // `pending` there) only when the release outlasts a second: a quicker one shows only its result.
    const releaseStates = (states: string[]) => [
      ...states.slice(0, -1).map((s) => (s === "pending" || s === "running" ? s : `not ${s}`)),
      "success",
    ];

    test("a merge creates the objects; a later merge updates one, prunes another, and the comment lists exactly that", async () => {
      const repo = await h.createRepo();
      const first = await h.merge(repo, {
        "deploy/a.yaml": configMapYaml("a", { v: "1" }),
        "deploy/b.yaml": configMapYaml("b", { v: "1" }),
        "deploy/c.yaml": configMapYaml("c", { v: "1" }),
      });
      assert.equal((await h.deliver(first.delivery)).status, 202);
      const statuses = await h.finalStatus(repo, first.sha);
      assert.deepEqual(states(statuses), releaseStates(states(statuses)));
      assert.match(statuses.at(-1)?.description ?? "", /^deployed: \+3 ~0 −0/);
      const live = await h.list("v1", "ConfigMap", repo.namespace);
      assert.deepEqual(
        ["a", "b", "c"].map((n) => live.get(n)?.data),
        [{ v: "1" }, { v: "1" }, { v: "1" }],
      );
      assert.equal(live.get("a")?.metadata?.managedFields?.[0]?.manager, "ferry");

      const second = await h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "2" }), "deploy/c.yaml": null });
      assert.equal((await h.deliver(second.delivery)).status, 202);
      const final = (await h.finalStatus(repo, second.sha)).at(-1);
      assert.equal(final?.state, "success");
      assert.match(final?.description ?? "", /^deployed: \+0 ~1 −1 \(1 unchanged\)/);
      const after = await h.list("v1", "ConfigMap", repo.namespace);
      assert.deepEqual(after.get("a")?.data, { v: "2" });
      assert.ok(after.has("b"));
      assert.ok(!after.has("c"), "c was pruned");

      const comments = await h.comments(repo, second.number, /Ferry release/);
      assert.equal(comments.length, 1);
      const body = comments[0] ?? "";
      assert.match(body, /\*\*configured\*\*: `ConfigMap [^/]+\/a`/);
      assert.match(body, /\*\*pruned\*\*: `ConfigMap [^/]+\/c`/);
      assert.doesNotMatch(body, /\*\*created\*\*/);
      assert.match(body, /\| staging \| test \| ✅ deployed `[0-9a-f]{7}` \| 0 \| 1 \| 1 \| 1 \|/);
    });

    test("one invalid manifest among valid ones writes nothing and the failure names the object and the server's reason", async () => {
      const repo = await h.createRepo();
      const merge = await h.merge(repo, {
        "deploy/good.yaml": configMapYaml("good", { v: "1" }),
        "deploy/bad.yaml": stringify({
          apiVersion: "apps/v1",
          kind: "Deployment",
          metadata: { name: "web" },
          spec: {
            replicas: -1,
            selector: { matchLabels: { app: "web" } },
            template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "nginx" }] } },
          },
        }),
      });
      await h.deliver(merge.delivery);
      const final = (await h.finalStatus(repo, merge.sha)).at(-1);
      assert.equal(final?.state, "failure");
      assert.match(
        final?.description ?? "",
        /^Deployment e2e-[0-9a-f]+\/web \(deploy\/bad\.yaml\): .*spec\.replicas: Invalid value: -1/,
      );
      const [comment = ""] = await h.comments(repo, merge.number, /Ferry release/);
      assert.match(comment, /Deployment [^/]+\/web \(deploy\/bad\.yaml\): .*spec\.replicas: Invalid value: -1/);
      assert.match(comment, /server-side validation failed: nothing was applied/);
      assert.equal(await h.namespaceExists(repo.namespace), false, "not even the namespace was created");
    });

    test("the same webhook five times, a push plus a merged pull request for one commit, and a redelivery once released, give one release", async () => {
      const repo = await h.createRepo();
      const before = await repo.git.head("main");
      const merge = await h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
      const answers = await Promise.all([
        ...Array.from({ length: 5 }, () => h.deliver(merge.delivery, "delivery-1")),
        h.deliver(h.push(repo, before, merge.sha)),
      ]);
      assert.deepEqual(
        answers.map((a) => a.status),
        [202, 202, 202, 202, 202, 202],
      );
      await h.finalStatus(repo, merge.sha);
      // A redelivery after the release finished (its job gone from the queue's waiting list) must not release again.
      answers.push(await h.deliver(merge.delivery, "delivery-1"));
      const ids = answers.map((a) => (JSON.parse(a.body) as { queued: string }).queued);
      // Each add is answered by BullMQ as queued or dropped: wait for all seven, every job they queued, and what those queued.
      const adds = await jobs.adds(DEPLOY_QUEUE, ids, 60_000);
      await jobs.settled(60_000);
      assert.deepEqual(
        [adds.queued.length, adds.dropped],
        [1, 6],
        `one deploy job for seven deliveries of one commit: ${JSON.stringify(adds)}`,
      );
      const statuses = h.statuses(repo, merge.sha).filter((s) => s.context === "ferry/deploy/staging");
      assert.deepEqual(states(statuses), releaseStates(states(statuses)), "one job, one release");
      assert.equal(
        h.rawComments(repo, merge.number).filter((c) => /Ferry release/.test(c.body)).length,
        1,
        "one release comment",
      );
    });

    test("two merges delivered in reverse order leave the cluster at the newer commit", async () => {
      const repo = await h.createRepo();
      const older = await h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "old" }) });
      const newer = await h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "new" }) });
      await h.deliver(newer.delivery);
      await h.finalStatus(repo, newer.sha);
      await h.deliver(older.delivery);
      const olderFinal = (await h.finalStatus(repo, older.sha)).at(-1);
      assert.equal(olderFinal?.state, "success");
      assert.match(olderFinal?.description ?? "", new RegExp(`^included in release of ${newer.sha.slice(0, 7)}`));
      assert.deepEqual((await h.list("v1", "ConfigMap", repo.namespace)).get("a")?.data, { v: "new" });
    });

    test("an object edited by hand since the last release is put back by the next release", async () => {
      const repo = await h.createRepo();
      const first = await h.merge(repo, {
        "deploy/a.yaml": configMapYaml("a", { v: "1" }),
        "deploy/b.yaml": configMapYaml("b", { v: "1" }),
      });
      await h.deliver(first.delivery);
      await h.finalStatus(repo, first.sha);
      await editByHand(
        h.kc,
        { apiVersion: "v1", kind: "ConfigMap", namespace: repo.namespace, name: "a" },
        { data: { v: "by hand" } },
      );
      const second = await h.merge(repo, { "deploy/b.yaml": configMapYaml("b", { v: "2" }) });
      await h.deliver(second.delivery);
      assert.match((await h.finalStatus(repo, second.sha)).at(-1)?.description ?? "", /^deployed: \+0 ~2 −0/);
      const live = await h.list("v1", "ConfigMap", repo.namespace);
      assert.deepEqual(live.get("a")?.data, { v: "1" });
      assert.deepEqual(live.get("b")?.data, { v: "2" });
    });

    test("a .ferry.yml naming a namespace or cluster the policy does not allow fails clearly and writes nothing", async () => {
      const outside = await h.createRepo({ environment: { namespace: "kube-system" } });
      const m1 = await h.merge(outside, { "deploy/a.yaml": configMapYaml("intruder", { v: "1" }) });
      await h.deliver(m1.delivery);
      const s1 = (await h.finalStatus(outside, m1.sha)).at(-1);
      assert.equal(s1?.state, "failure");
      assert.equal(
        s1?.description,
        `environment staging: policy does not allow ${outside.fullName} to deploy to namespace "kube-system" on cluster "test"`,
      );
      assert.equal((await h.list("v1", "ConfigMap", "kube-system")).has("intruder"), false);
      // The refusal is an audit record of the environment: a release that failed before any cluster, and why.
      assert.deepEqual(
        (await audit.records(forge, outside.fullName, "staging")).map((r) => [
          r.action,
          r.sha,
          r.cluster,
          r.outcome,
          r.reason,
        ]),
        [
          [
            "release",
            m1.sha,
            undefined,
            "failed",
            `environment staging: policy does not allow ${outside.fullName} to deploy to namespace "kube-system" on cluster "test"`,
          ],
        ],
      );

      const elsewhere = await h.createRepo({ environment: { cluster: "production" } });
      const m2 = await h.merge(elsewhere, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
      await h.deliver(m2.delivery);
      assert.equal(
        (await h.finalStatus(elsewhere, m2.sha)).at(-1)?.description,
        'environment staging: cluster "production" is not registered with Ferry',
      );
      assert.equal(await h.namespaceExists(elsewhere.namespace), false);
    });

    test("an object in a namespace the policy does not allow fails the whole release", async () => {
      const repo = await h.createRepo();
      const merge = await h.merge(repo, {
        "deploy/a.yaml": configMapYaml("a", { v: "1" }),
        "deploy/other.yaml": stringify({
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: "x", namespace: "default" },
          data: { v: "1" },
        }),
      });
      await h.deliver(merge.delivery);
      const final = (await h.finalStatus(repo, merge.sha)).at(-1);
      assert.equal(final?.state, "failure");
      assert.equal(
        final?.description,
        'ConfigMap default/x: policy does not allow namespace "default" on cluster "test"',
      );
      assert.equal(await h.namespaceExists(repo.namespace), false);
    });

    test("an invalid .ferry.yml fails with file, line and field on the status and the comment", async () => {
      const repo = await h.createRepo();
      const merge = await h.merge(repo, {
        ".ferry.yml":
          "version: 1\nenvironments:\n  - name: staging\n    branch: main\n    path: deploy\n    cluster: test\n    namespace: Bad_Name\n",
      });
      await h.deliver(merge.delivery);
      const final = (await h.finalStatus(repo, merge.sha, "ferry/deploy")).at(-1);
      assert.equal(final?.state, "failure");
      assert.match(final?.description ?? "", /^\.ferry\.yml:7:16: environments\.0\.namespace: must be a DNS label/);
      await h.comments(repo, merge.number, /\.ferry\.yml:7:16: environments\.0\.namespace/);
      // No environment could be read: the failed release is recorded under the repository as a whole.
      const [record, ...more] = await audit.records(forge, repo.fullName);
      assert.deepEqual(
        [record?.action, record?.environment, record?.sha, record?.outcome, more],
        ["release", "*", merge.sha, "failed", []],
      );
      assert.match(record?.reason ?? "", /^\.ferry\.yml:7:16: environments\.0\.namespace: must be a DNS label/);
    });

    test("the forge refused no status transition in this suite", () => {
      assert.deepEqual(h.forge.refusedTransitions(), []);
    });
  });
