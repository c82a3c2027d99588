import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { SeenStatus } from "./support/forge-doubles/forge-double.js";
import { configMapYaml, FerryHarness, type TestRepo } from "./support/ferry-harness.js";
import { ensureFakeNodes, FAKE_NODE_LABEL } from "./support/kwok.js";
import { deploymentYaml } from "./support/workloads.js";
import { waitUntil } from "./support/wait-until.js";

const short = (sha: string) => sha.slice(0, 7);
const descriptions = (statuses: SeenStatus[]) => statuses.map((s) => `${s.state}: ${s.description}`);

/**
 * Health gating end to end: Ferry applies Deployments that kube-controller-manager, kube-scheduler
 * and kwok's fake nodes really roll out (or, scheduled on no node, never do), and reports only what
 * the cluster says.
 */
describe("a release succeeds only when its workloads are up (github)", () => {
  let h: FerryHarness;
  before(async () => {
    h = await FerryHarness.start("github");
    await ensureFakeNodes(h.kc);
  });
  after(async () => h.close());

  /** The Deployment's image and node selector as the cluster has it, and how many replicas are available. */
  async function liveDeployment(repo: TestRepo, name: string) {
    const live = (await h.list("apps/v1", "Deployment", repo.namespace)).get(name) as
      | {
          spec: { template: { spec: { containers: Array<{ image: string }>; nodeSelector?: Record<string, string> } } };
          status?: { availableReplicas?: number };
        }
      | undefined;
    assert.ok(live, `Deployment ${name} exists`);
    return {
      image: live.spec.template.spec.containers[0]?.image,
      nodes: live.spec.template.spec.nodeSelector?.[FAKE_NODE_LABEL],
      available: live.status?.availableReplicas ?? 0,
    };
  }

  test("a merge whose Deployment rolls out succeeds only once it is available, pending while it waits", async () => {
    const repo = await h.createRepo({ environment: { wait: { timeout: "60s" } } });
    const merge = await h.merge(repo, {
      "deploy/web.yaml": deploymentYaml("web", { replicas: 2 }),
      "deploy/settings.yaml": configMapYaml("settings", { v: "1" }),
    });
    await h.deliver(merge.delivery);
    const statuses = await h.finalStatus(repo, merge.sha);
    const final = statuses.at(-1);
    assert.equal(final?.state, "success", descriptions(statuses).join("\n"));
    assert.match(final?.description ?? "", /^deployed: \+2 ~0 −0/);
    const waiting = statuses.filter((s) => s.description.startsWith("waiting: "));
    assert.deepEqual(
      waiting.map((s) => [s.state, s.description]),
      [["pending", "waiting: 0/1 Deployment available"]],
      descriptions(statuses).join("\n"),
    );
    assert.ok(statuses.indexOf(waiting[0] as SeenStatus) < statuses.length - 1, "the success came after the waiting");
    assert.equal((await liveDeployment(repo, "web")).available, 2, "available when the success was reported");
    const [comment = ""] = await h.comments(repo, merge.number, /Ferry release/);
    assert.match(comment, /\| staging \| test \| ✅ deployed `[0-9a-f]{7}` \| 2 \| 0 \| 0 \| 0 \|/);
  });

  test("a merge whose Deployment cannot become available fails within the timeout, naming it and ProgressDeadlineExceeded", async () => {
    const repo = await h.createRepo({ environment: { wait: { timeout: "30s" } } });
    const merge = await h.merge(repo, {
      "deploy/web.yaml": deploymentYaml("web", { nodes: "none", progressDeadlineSeconds: 5 }),
    });
    const started = Date.now();
    await h.deliver(merge.delivery);
    const statuses = await h.finalStatus(repo, merge.sha);
    const elapsed = Date.now() - started;
    const final = statuses.at(-1);
    assert.equal(final?.state, "failure", descriptions(statuses).join("\n"));
    assert.ok(elapsed < 30_000, `failed after ${elapsed} ms, within the 30s timeout`);
    const named = new RegExp(
      `^Deployment ${repo.namespace}/web: ProgressDeadlineExceeded: ReplicaSet "web-[a-z0-9]+" has timed out progressing\\.`,
    );
    assert.match(final?.description ?? "", named);
    assert.ok(
      statuses.some((s) => s.state === "pending" && s.description === "waiting: 0/1 Deployment available"),
      descriptions(statuses).join("\n"),
    );
    const [comment = ""] = await h.comments(repo, merge.number, /Ferry release/);
    assert.match(comment, /\| staging \| test \| ❌ not healthy at `[0-9a-f]{7}` \| 1 \| 0 \| 0 \| 0 \|/);
    assert.match(comment, /\*\*staging\*\* was applied but did not become healthy:/);
    assert.match(
      comment,
      new RegExp(
        `Deployment ${repo.namespace}/web: ProgressDeadlineExceeded: ReplicaSet "web-[a-z0-9]+" has timed out progressing\\.`,
      ),
    );
    assert.match(comment, /Warning FailedScheduling on Pod [^ ]+\/web-[a-z0-9-]+: 0\/\d+ nodes are available/);
    assert.equal(
      (await liveDeployment(repo, "web")).nodes,
      "nowhere",
      "without onFailure the cluster stays as applied",
    );
  });

  test("with onFailure: rollback, a failing merge leaves the previous release running and reports both outcomes", async () => {
    const repo = await h.createRepo({ environment: { wait: { timeout: "30s" }, onFailure: "rollback" } });
    const good = await h.merge(repo, {
      "deploy/web.yaml": deploymentYaml("web", { image: "shop/web:1" }),
      "deploy/a.yaml": configMapYaml("a", { v: "1" }),
    });
    await h.deliver(good.delivery);
    assert.equal((await h.finalStatus(repo, good.sha)).at(-1)?.state, "success");

    const bad = await h.merge(repo, {
      "deploy/web.yaml": deploymentYaml("web", { image: "shop/web:2", nodes: "none", progressDeadlineSeconds: 5 }),
      "deploy/a.yaml": configMapYaml("a", { v: "2" }),
      "deploy/b.yaml": configMapYaml("b", { v: "2" }),
    });
    await h.deliver(bad.delivery);
    const statuses = await h.finalStatus(repo, bad.sha);
    const final = statuses.at(-1);
    assert.equal(final?.state, "failure", descriptions(statuses).join("\n"));
    assert.match(
      final?.description ?? "",
      new RegExp(`^rolled back to ${short(good.sha)}: Deployment ${repo.namespace}/web: ProgressDeadlineExceeded`),
    );
    // The rollback is shown while it runs (its first words, the reason, may be replaced within the
    // second statuses are held by its progress: the final status names the reason).
    assert.ok(
      statuses.some((s) => s.state === "pending" && /^rolling back: /.test(s.description)),
      descriptions(statuses).join("\n"),
    );

    // The cluster runs the previous release's objects again, rolled out.
    const web = await liveDeployment(repo, "web");
    assert.deepEqual(web, { image: "shop/web:1", nodes: "kwok", available: 1 });
    const configMaps = await h.list("v1", "ConfigMap", repo.namespace);
    assert.deepEqual(configMaps.get("a")?.data, { v: "1" });
    assert.ok(!configMaps.has("b"), "what the failed release added is pruned");

    const [comment = ""] = await h.comments(repo, bad.number, /Ferry release/);
    assert.match(comment, /\| staging \| test \| ❌ not healthy at `[0-9a-f]{7}` \| 1 \| 2 \| 0 \| 0 \|/);
    assert.match(
      comment,
      new RegExp(`\\| staging \\| test \\| ↩️ rolled back to \`${short(good.sha)}\` \\| 0 \\| 2 \\| 1 \\| 0 \\|`),
    );
    assert.match(comment, /ProgressDeadlineExceeded/);
    assert.match(
      comment,
      new RegExp(
        `\\*\\*staging\\*\\* was rolled back to \`${short(good.sha)}\`, the last successful release, and is healthy again\\.`,
      ),
    );
    // Git still holds the broken Deployment: the fix is the next merge, released as usual.
    const fix = await h.merge(repo, { "deploy/web.yaml": deploymentYaml("web", { image: "shop/web:3" }) });
    await h.deliver(fix.delivery);
    assert.match((await h.finalStatus(repo, fix.sha)).at(-1)?.description ?? "", /^deployed: \+1 ~2 −0/);
    assert.equal((await liveDeployment(repo, "web")).image, "shop/web:3");
  });

  test("a newer merge during a long wait starts at once, and the older release is reported as superseded", async () => {
    const repo = await h.createRepo({ environment: { wait: { timeout: "5m" } } });
    const older = await h.merge(repo, { "deploy/web.yaml": deploymentYaml("web", { nodes: "none" }) });
    await h.deliver(older.delivery);
    // The older release is applied and waits for a Deployment that will never be available.
    await waitUntil(
      () => `the older release never waited: ${descriptions(h.statuses(repo, older.sha)).join(" | ")}`,
      () => h.statuses(repo, older.sha).some((s) => s.description.startsWith("waiting: ")),
      30_000,
      50,
    );
    const newer = await h.merge(repo, { "deploy/web.yaml": deploymentYaml("web") });
    const started = Date.now();
    await h.deliver(newer.delivery);
    const olderFinal = (await h.finalStatus(repo, older.sha, undefined, 20_000)).at(-1);
    assert.equal(olderFinal?.state, "success");
    assert.equal(olderFinal?.description, `superseded by ${short(newer.sha)}: its release includes this commit`);
    const newerStatuses = await h.finalStatus(repo, newer.sha, undefined, 30_000);
    const elapsed = Date.now() - started;
    assert.equal(newerStatuses.at(-1)?.state, "success", descriptions(newerStatuses).join("\n"));
    assert.ok(
      elapsed < 20_000,
      `the newer release finished ${elapsed} ms after its merge, without waiting out the older one's 5m`,
    );
    assert.equal((await liveDeployment(repo, "web")).nodes, "kwok");
    const [comment = ""] = await h.comments(repo, older.number, /Ferry release/);
    assert.match(comment, new RegExp(`⏭️ applied \`${short(older.sha)}\`, superseded by \`${short(newer.sha)}\``));
  });
});
