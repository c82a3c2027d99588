import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { stringify } from "yaml";
import { PLAN_QUEUE } from "../src/queue/plan-request.js";
import { configMapYaml, FerryHarness, TEST_CLUSTER, type TestRepo } from "./support/ferry-harness.js";
import type { GitHubDouble } from "./support/forge-doubles/github-double.js";
import type { CheckRunRecord } from "./support/github-simulator.js";
import { JobCounter } from "./support/job-counter.js";
import { waitUntil } from "./support/wait-until.js";

describe("plans as GitHub check runs", () => {
  let h: FerryHarness;
  let gh: GitHubDouble;
  let jobs: JobCounter;
  before(async () => {
    h = await FerryHarness.start("github");
    gh = h.forge as GitHubDouble;
    jobs = JobCounter.open(h.redisUrl);
  });
  after(async () => {
    await jobs?.close();
    await h?.close();
  });

  /** The id of the job a webhook's answer says it queued. */
  const queuedId = (answer: { status: number; body: string }): string => {
    assert.equal(answer.status, 202, answer.body);
    return (JSON.parse(answer.body) as { queued: string }).queued;
  };

  /** Ferry's runs named `name` on `sha`, once the newest of them has completed. */
  const completedRuns = async (repo: TestRepo, sha: string, name: string, count = 1): Promise<CheckRunRecord[]> => {
    const runs = () => gh.checkRuns(repo.fullName, sha).filter((r) => r.name === name);
    await waitUntil(
      () => `no ${count} completed ${name} runs on ${sha.slice(0, 7)} (got ${JSON.stringify(runs())})`,
      () => runs().length >= count && runs().every((r) => r.status === "completed"),
      60_000,
      50,
    );
    return runs();
  };

  /** The 1-based line of the first line of `text` holding `needle`. */
  const lineOf = (text: string, needle: string): number => text.split("\n").findIndex((l) => l.includes(needle)) + 1;

  test("a plan with changes is a success check run: the table as summary, the masked diffs as text, the full plan as details; no plan status", async () => {
    const repo = await h.createRepo();
    const base = await h.merge(repo, { "deploy/change.yaml": configMapYaml("change", { color: "blue" }) });
    await h.deliver(base.delivery);
    await h.finalStatus(repo, base.sha);
    const pr = await h.openPullRequest(repo, {
      "deploy/change.yaml": configMapYaml("change", { color: "green" }),
      "deploy/secret.yaml": stringify({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "creds" },
        stringData: { password: "hunter2-check" },
      }),
    });
    await h.deliver(pr.delivery);
    const [run] = await completedRuns(repo, pr.headSha, "ferry/plan/staging");
    assert.equal(run?.conclusion, "success");
    assert.equal(run?.output.title, "+1 ~1 −0 (0 unchanged)");
    assert.match(run?.output.summary ?? "", new RegExp(`\\| staging \\| ${TEST_CLUSTER} \\| 1 \\| 1 \\| 0 \\|`));
    assert.match(run?.output.text ?? "", /- {2}color: blue\n\+ {2}color: green/);
    assert.match(run?.output.text ?? "", /Secret e2e-[0-9a-f]+\/creds \(values hidden\)/);
    assert.doesNotMatch(JSON.stringify(run), /hunter2-check/);
    assert.ok(run?.details_url?.startsWith(`${h.url}/plans/`), run?.details_url ?? "");
    assert.deepEqual(
      run?.history.map((s) => [s.status, s.conclusion]),
      [
        ["in_progress", null],
        ["completed", "success"],
      ],
    );
    assert.deepEqual(
      h.statuses(repo, pr.headSha).filter((s) => s.context.startsWith("ferry/plan")),
      [],
      "GitHub shows statuses as checks too: one of each would show twice",
    );
    assert.match((await h.comments(repo, pr.number, /Ferry plan/))[0] ?? "", /Ferry plan/, "the comment stays");
  });

  test("a plan that changes nothing is neutral", async () => {
    const repo = await h.createRepo();
    const base = await h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
    await h.deliver(base.delivery);
    await h.finalStatus(repo, base.sha);
    const pr = await h.openPullRequest(repo, { "README.md": "only words\n" });
    await h.deliver(pr.delivery);
    const [run] = await completedRuns(repo, pr.headSha, "ferry/plan/staging");
    assert.equal(run?.conclusion, "neutral");
    assert.equal(run?.output.title, "+0 ~0 −0 (1 unchanged)");
  });

  test("an error in .ferry.yml fails the ferry/plan check with an annotation on the file and line", async () => {
    const repo = await h.createRepo();
    const config = [
      "version: 1",
      "environments:",
      "  - name: staging",
      "    branch: main",
      "    path: deploy",
      `    cluster: ${TEST_CLUSTER}`,
      `    namespace: ${repo.namespace}`,
      "    prune: sometimes",
      "",
    ].join("\n");
    const pr = await h.openPullRequest(repo, { ".ferry.yml": config });
    await h.deliver(pr.delivery);
    const [run] = await completedRuns(repo, pr.headSha, "ferry/plan");
    assert.equal(run?.conclusion, "failure");
    assert.match(run?.output.title ?? "", /^\.ferry\.yml:8:\d+: environments\.0\.prune: /);
    assert.deepEqual(
      run?.annotations.map((a) => [a.path, a.start_line, a.end_line, a.annotation_level]),
      [[".ferry.yml", lineOf(config, "prune: sometimes"), lineOf(config, "prune: sometimes"), "failure"]],
    );
    assert.match(run?.annotations[0]?.message ?? "", /environments\.0\.prune/);
  });

  test("a manifest the API server refuses, naming a field, and one that does not parse: annotations on their lines", async () => {
    const repo = await h.createRepo();
    const bad = [
      "apiVersion: v1",
      "kind: ConfigMap",
      "metadata:",
      "  name: bad",
      "data:",
      '  v: "1"',
      "colour: red",
      "",
    ].join("\n");
    const pr = await h.openPullRequest(repo, { "deploy/bad.yaml": bad });
    await h.deliver(pr.delivery);
    const [run] = await completedRuns(repo, pr.headSha, "ferry/plan/staging");
    assert.equal(run?.conclusion, "failure");
    assert.match(run?.output.title ?? "", /^failed: ConfigMap .*bad \(deploy\/bad\.yaml\): .*strict decoding error/);
    assert.deepEqual(
      run?.annotations.map((a) => [a.path, a.start_line, a.title]),
      [["deploy/bad.yaml", lineOf(bad, "colour: red"), "ConfigMap bad"]],
    );
    assert.match(run?.annotations[0]?.message ?? "", /colour/);

    const broken = ["apiVersion: v1", "kind: ConfigMap", "metadata:", "  name: broken", "data: {v: [1, 2}", ""].join(
      "\n",
    );
    const pushed = await h.pushToPullRequest(repo, pr, { "deploy/bad.yaml": null, "deploy/broken.yaml": broken });
    await h.deliver(pushed.delivery);
    const [parsed] = await completedRuns(repo, pushed.headSha, "ferry/plan/staging");
    assert.equal(parsed?.conclusion, "failure");
    assert.ok(
      parsed?.annotations.some((a) => a.path === "deploy/broken.yaml" && a.start_line === 5),
      JSON.stringify(parsed?.annotations),
    );
  });

  test("Re-run on a plan check (check_run.rerequested) and Re-run all (check_suite.rerequested) plan again, each in a new run", async () => {
    const repo = await h.createRepo();
    const pr = await h.openPullRequest(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
    await h.deliver(pr.delivery);
    const [first] = await completedRuns(repo, pr.headSha, "ferry/plan/staging");
    assert.ok(first);
    // The cluster changes under the plan: the re-run's plan must say so.
    const merged = await h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "0" }) });
    await h.deliver(merged.delivery);
    await h.finalStatus(repo, merged.sha);
    const rerun = queuedId(await h.deliver(gh.rerunCheck(repo.fullName, first.id)));
    assert.equal((await jobs.finished(PLAN_QUEUE, rerun, 60_000)).state, "completed");
    const runs = await completedRuns(repo, pr.headSha, "ferry/plan/staging", 2);
    assert.equal(runs.length, 2, "a new run, the first left as it was");
    assert.equal(runs[0]?.history.length, 2, "the first run was not touched");
    assert.equal(runs[1]?.output.title, "+0 ~1 −0 (0 unchanged)");

    const suite = queuedId(await h.deliver(gh.rerunSuite(repo.fullName, pr.headSha)));
    assert.equal((await jobs.finished(PLAN_QUEUE, suite, 60_000)).state, "completed");
    assert.equal((await completedRuns(repo, pr.headSha, "ferry/plan/staging", 3)).length, 3);

    // A redelivered Re-run queues nothing more.
    const again = gh.rerunCheck(repo.fullName, first.id);
    const id = "redelivered-rerun";
    queuedId(await h.deliver(again, id));
    await jobs.settled(30_000);
    const count = gh.checkRuns(repo.fullName, pr.headSha).length;
    assert.equal((await h.deliver(again, id)).status, 202);
    await jobs.settled(30_000);
    assert.equal(gh.checkRuns(repo.fullName, pr.headSha).length, count, "the same delivery re-plans once");
  });

  // Last: Ferry remembers an installation's refusal for ten minutes.
  test("an installation without checks: write gets ferry/plan/<env> commit statuses, and the refusal is logged once", async () => {
    gh.denyChecks();
    const repo = await h.createRepo();
    const plans = [];
    for (const n of [1, 2]) {
      const pr = await h.openPullRequest(repo, { [`deploy/p${n}.yaml`]: configMapYaml(`p${n}`, { v: "1" }) });
      await h.deliver(pr.delivery);
      await waitUntil(
        () => `no plan status on #${pr.number}: ${JSON.stringify(h.statuses(repo, pr.headSha))}`,
        () => h.statuses(repo, pr.headSha).some((s) => s.context === "ferry/plan/staging" && s.state === "success"),
        60_000,
        50,
      );
      plans.push(pr);
    }
    assert.equal(
      h.statuses(repo, plans[0]?.headSha).find((s) => s.state === "success")?.description,
      "+1 ~0 −0 (0 unchanged)",
    );
    assert.deepEqual(gh.checkRuns(repo.fullName), []);
    assert.equal(h.logLines.filter((l) => l.includes('lacks the \\"checks: write\\" permission')).length, 1);
  });
});
