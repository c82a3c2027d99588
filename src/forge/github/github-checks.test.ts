import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import pino from "pino";
import type { Probot } from "probot";
import type { GitRepo } from "../../../test/support/git-repo.js";
import { defaultInstallationPermissions, type GitHubSimulator } from "../../../test/support/github-simulator.js";
import { startSimulatedGitHub } from "../../../test/support/simulated-github.js";
import type { CheckAnnotation, CheckRunReport, Forge } from "../types.js";
import { ChecksPermission } from "./checks-permission.js";
import { githubForgeFactory } from "./github-forge-factory.js";

const fullName = "acme/checks";

/** `n` annotations on lines 1..n of `deploy/web.yaml`. */
function annotations(n: number): CheckAnnotation[] {
  return Array.from({ length: n }, (_, i) => ({
    path: "deploy/web.yaml",
    startLine: i + 1,
    endLine: i + 1,
    level: "failure" as const,
    message: `problem ${i + 1}`,
  }));
}

describe("GitHub check runs against the GitHub simulator", () => {
  let sim: GitHubSimulator;
  let git: GitRepo;
  let probot: Probot;
  let sha: string;
  let otherSha: string;
  const logged: string[] = [];
  const log = pino({ level: "warn" }, { write: (line: string) => logged.push(line) });
  let permission: ChecksPermission;
  const forge = (): Promise<Forge> =>
    githubForgeFactory(probot, { botLogin: sim.botLogin, log, checksPermission: permission })({
      forge: "github",
      fullName,
      installationId: 1,
    });
  const running: CheckRunReport = { name: "ferry/plan/staging", title: "planning", summary: "…", externalId: "d1" };
  const done = (extra: Partial<CheckRunReport> = {}): CheckRunReport => ({
    ...running,
    conclusion: "failure",
    title: "failed: deploy/web.yaml:3:1: bad",
    summary: "### plan",
    text: "diffs",
    detailsUrl: "https://ferry.example.com/plans/p1",
    ...extra,
  });

  before(async () => {
    ({ sim, git, probot, mainSha: sha, featureSha: otherSha } = await startSimulatedGitHub(fullName));
  });

  beforeEach(() => {
    permission = new ChecksPermission();
    logged.length = 0;
    sim.setInstallationPermissions(1, { ...defaultInstallationPermissions });
  });

  after(async () => {
    await sim.close();
    await git.dispose();
  });

  test("a run goes in progress, then completed; a retried job (a new forge) updates it, never back to in progress, and makes no second", async () => {
    const first = await forge();
    assert.equal(await first.ensureCheckRun(sha, running), true);
    assert.equal(await first.ensureCheckRun(sha, done()), true);
    const retried = await forge();
    assert.equal(await retried.ensureCheckRun(sha, running), true, "not moved back to in progress");
    assert.equal(await retried.ensureCheckRun(sha, done()), true);
    const [run, ...more] = sim.checkRuns(fullName, sha).filter((r) => r.name === "ferry/plan/staging");
    assert.deepEqual(more, [], "one run");
    assert.deepEqual(
      run?.history.map((h) => [h.status, h.conclusion]),
      [
        ["in_progress", null],
        ["completed", "failure"],
        ["completed", "failure"],
      ],
    );
    assert.equal(run?.external_id, "d1");
    assert.equal(run?.details_url, "https://ferry.example.com/plans/p1");
    assert.equal(run?.output.text, "diffs");
  });

  test("120 annotations go in three requests of at most 50, appended to one run, and a retry does not repeat them", async () => {
    const report = done({ name: "ferry/plan/many", annotations: annotations(120) });
    await (await forge()).ensureCheckRun(sha, report);
    await (await forge()).ensureCheckRun(sha, report);
    const [run, ...more] = sim.checkRuns(fullName, sha).filter((r) => r.name === "ferry/plan/many");
    assert.deepEqual(more, []);
    assert.equal(run?.annotations.length, 120);
    assert.equal(run?.annotationRequests, 3);
    assert.deepEqual(
      run?.annotations.map((a) => a.start_line),
      Array.from({ length: 120 }, (_, i) => i + 1),
    );
    assert.equal(run?.annotations[0]?.annotation_level, "failure");
  });

  test("another job (a Re-run, /ferry plan) gets a new run, the first left as it was; its retries update the new one", async () => {
    const name = "ferry/plan/rerun";
    await (await forge()).ensureCheckRun(otherSha, done({ name }));
    const rerun = await forge();
    await rerun.ensureCheckRun(otherSha, { ...running, name, externalId: "d2" });
    await rerun.ensureCheckRun(otherSha, done({ name, externalId: "d2", conclusion: "neutral" }));
    await (await forge()).ensureCheckRun(otherSha, done({ name, externalId: "d2", conclusion: "neutral" }));
    const runs = sim.checkRuns(fullName, otherSha).filter((r) => r.name === name);
    assert.deepEqual(
      runs.map((r) => [r.external_id, r.conclusion, r.history.length]),
      [
        ["d1", "failure", 1],
        ["d2", "neutral", 3],
      ],
    );
  });

  test("without checks: write the forge answers false, logs once, and asks GitHub again only after the denial expires", async () => {
    const granted = { ...defaultInstallationPermissions };
    delete granted["checks"];
    sim.setInstallationPermissions(1, granted);
    let now = 0;
    permission = new ChecksPermission(60_000, () => now);
    const calls = () => sim.requests.filter((r) => r.path.includes("/check-runs")).length;
    const before = calls();
    assert.equal(await (await forge()).ensureCheckRun(sha, done({ name: "ferry/plan/denied" })), false);
    const asked = calls();
    assert.ok(asked > before, "GitHub was asked once");
    assert.equal(await (await forge()).ensureCheckRun(sha, done({ name: "ferry/plan/denied" })), false);
    assert.equal(calls(), asked, "a known denial asks nothing");
    assert.equal(logged.length, 1);
    assert.match(logged[0] ?? "", /lacks the \\"checks: write\\" permission/);
    now = 60_001;
    sim.setInstallationPermissions(1, { ...defaultInstallationPermissions });
    assert.equal(await (await forge()).ensureCheckRun(sha, done({ name: "ferry/plan/denied" })), true);
    assert.equal(sim.checkRuns(fullName, sha).filter((r) => r.name === "ferry/plan/denied").length, 1);
  });

  test("other refusals (a commit GitHub does not have: 422) still fail the call", async () => {
    await assert.rejects(
      (await forge()).ensureCheckRun("0000000000000000000000000000000000000bad", done({ name: "ferry/plan/nosha" })),
      /GitHub: .*422/,
    );
  });
});
