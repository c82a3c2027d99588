import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { KubernetesObjectApi, PatchStrategy, type KubeConfig } from "@kubernetes/client-node";
import { stringify } from "yaml";
import { AgentFleet } from "./support/agent-fleet.js";
import { AuditReader } from "./support/audit-records.js";
import { configMapYaml, FerryHarness, type TestRepo } from "./support/ferry-harness.js";
import { waitUntil } from "./support/wait-until.js";
import { deploymentYaml } from "./support/workloads.js";

/** Reached only through their agents (the server config holds no credentials for them); `hub` directly. */
const AGENTS = ["edge-1", "edge-2", "edge-3"];

/** The issue's bound from a change to its drift status, with watches on. */
const WATCH_BOUND_MS = 10_000;

/** How long an agent may go unseen: short for the test, several heartbeats long. */
const AGENT_TIMEOUT_S = 10;

/** A Secret `token` holding `value` (stringData, as a manifest in Git would). */
function secretYaml(value: string): string {
  return stringify({ apiVersion: "v1", kind: "Secret", metadata: { name: "token" }, stringData: { key: value } });
}

describe("reconcile, drift, heal and rollback on agent clusters (separate `ferry agent` processes)", () => {
  let fleet: AgentFleet;
  let h: FerryHarness;
  let audit: AuditReader;
  let kcs: AgentFleet["kcs"];
  let agents: AgentFleet["agents"];
  const startAgent = (cluster: string) => fleet.startAgent(cluster);

  before(async () => {
    fleet = await AgentFleet.start(AGENTS, {
      agentTimeoutS: AGENT_TIMEOUT_S,
      serverConfig: { reconcile: { minInterval: "2s" } },
    });
    ({ h, kcs, agents } = fleet);
    audit = AuditReader.open(h.redisUrl);
  });
  after(async () => {
    audit?.close();
    await fleet?.close();
  });

  /** A repository whose one environment `env` runs on agent cluster `cluster`, reconciled every 2 s. */
  const agentRepo = (env: string, cluster: string, extra: Record<string, unknown> = {}) =>
    h.createRepo({
      environments: (namespace) => [
        {
          name: env,
          branch: "main",
          path: "deploy",
          cluster,
          namespace,
          wait: false,
          reconcile: { interval: "2s" },
          ...extra,
        },
      ],
    });
  const objectsOn = (cluster: string) => KubernetesObjectApi.makeApiClient(kcs.get(cluster) as KubeConfig);
  const readOn = (cluster: string, kind: string, apiVersion: string, namespace: string, name: string) =>
    objectsOn(cluster)
      .read({ apiVersion, kind, metadata: { name, namespace } })
      .then(
        (o) => o as { data?: Record<string, string> },
        () => undefined,
      );
  const configMapOn = (cluster: string, namespace: string, name: string) =>
    readOn(cluster, "ConfigMap", "v1", namespace, name).then((o) => o?.data);
  /** Edits an object on `cluster` as `kubectl edit` does (a merge patch, field manager `kubectl-edit`). */
  const editOn = (cluster: string, object: Record<string, unknown>) =>
    objectsOn(cluster).patch(object, undefined, undefined, "kubectl-edit", undefined, PatchStrategy.MergePatch);

  /** Merges `files`, delivers the webhook and waits for the deploy's final status, which must be `state`. */
  async function deploy(repo: TestRepo, env: string, files: Record<string, string | null>, state = "success") {
    const merge = await h.merge(repo, files);
    assert.equal((await h.deliver(merge.delivery)).status, 202);
    const final = (await h.finalStatus(repo, merge.sha, `ferry/deploy/${env}`, 120_000)).at(-1);
    assert.equal(final?.state, state, final?.description);
    return { merge, final: final };
  }
  const waitForDrift = (repo: TestRepo, env: string, state: "success" | "failure", pattern: RegExp, ms = 90_000) =>
    h.waitForLatestStatus(repo, `ferry/drift/${env}`, state, pattern, ms);

  test("a hand edit on an agent cluster is drift naming field, values and manager, with an issue; /ferry heal heals it through the agent", async () => {
    const env = "edge-drift";
    const repo = await agentRepo(env, "edge-2");
    const { namespace } = repo;
    const { merge } = await deploy(repo, env, {
      "deploy/a.yaml": configMapYaml("a", { v: "1" }),
      "deploy/token.yaml": secretYaml("git-value-41"),
    });
    await waitForDrift(repo, env, "success", /^in sync \(checked \d\d:\d\d UTC\)$/);

    await editOn("edge-2", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "a", namespace },
      data: { v: "5" },
    });
    await waitForDrift(
      repo,
      env,
      "failure",
      new RegExp(`^1 object drifted: ConfigMap ${namespace}/a data\\.v "1"→"5" by kubectl-edit$`),
    );
    await waitUntil(
      () => `no drift issue; issues ${JSON.stringify(h.forge.issues(repo.fullName))}`,
      () => h.forge.issues(repo.fullName).some((i) => i.state === "open"),
      30_000,
    );
    // A Secret edited by hand is drift too, and its values leave the agent masked.
    const handValue = "hand-value-97";
    await editOn("edge-2", {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "token", namespace },
      data: { key: Buffer.from(handValue).toString("base64") },
    });
    await waitForDrift(repo, env, "failure", /^2 objects drifted/);
    await waitUntil(
      () => `the drift issue never listed the Secret: ${JSON.stringify(h.forge.issues(repo.fullName))}`,
      () => (h.forge.issues(repo.fullName)[0]?.body ?? "").includes(`Secret ${namespace}/token`),
      30_000,
    );
    const [issue] = h.forge.issues(repo.fullName);
    assert.equal(issue?.title, `Drift in ${env}`);
    assert.match(
      issue?.body ?? "",
      /\| `ConfigMap [^`]+\/a` \| `data\.v` \| `"1"` \| `"5"` \| `kubectl-edit` \(Update\) \|/,
    );
    assert.match(issue?.body ?? "", new RegExp(`/ferry heal ${env}`));
    const everything = JSON.stringify([h.forge.issues(repo.fullName), h.statuses(repo), h.logLines]);
    for (const value of ["git-value-41", handValue])
      for (const form of [value, Buffer.from(value).toString("base64")])
        assert.equal(everything.includes(form), false, `a Secret value (${form}) left the agent unmasked`);
    // The central worker never read edge-2 itself: its agent did.
    assert.match(agents.get("edge-2")?.output() ?? "", /"msg":"reconciled"/);

    h.forge.setAccess(repo.fullName, "lead", "write");
    await h.deliver(h.comment(repo, { number: merge.number } as never, "lead", "/ferry heal"));
    await h.comments(repo, merge.number, /restored 2 objects/, 90_000);
    assert.deepEqual(await configMapOn("edge-2", namespace, "a"), { v: "1" }, "the heal put Ferry's value back");
    const token = (await readOn("edge-2", "Secret", "v1", namespace, "token"))?.data?.key ?? "";
    assert.equal(Buffer.from(token, "base64").toString(), "git-value-41");
    await waitForDrift(repo, env, "success", /^(in sync|healed 2 objects) \(checked/);
    await waitUntil(
      "the drift issue was never closed",
      () => h.forge.issues(repo.fullName).every((i) => i.state === "closed"),
      30_000,
    );
    assert.match(h.forge.issues(repo.fullName)[0]?.comments.at(-1) ?? "", /^Back in sync/);
    const heals = (await audit.records("github", repo.fullName, env)).filter((r) => r.action === "heal");
    assert.deepEqual(
      heals.map((r) => [r.actor, r.cluster, r.outcome]),
      [["lead", "edge-2", "healed"]],
    );
  });

  test("in heal mode the agent heals a hand edit on its own, and the heal is audited centrally", async () => {
    const env = "edge-heal";
    const repo = await agentRepo(env, "edge-1", { reconcile: { interval: "2s", drift: "heal" } });
    const { namespace } = repo;
    await deploy(repo, env, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
    await waitForDrift(repo, env, "success", /^in sync/);
    await editOn("edge-1", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "a", namespace },
      data: { v: "9" },
    });
    await waitForDrift(repo, env, "success", /^healed 1 object \(checked/);
    assert.deepEqual(await configMapOn("edge-1", namespace, "a"), { v: "1" });
    const heals = (await audit.records("github", repo.fullName, env)).filter((r) => r.action === "heal");
    assert.deepEqual(
      heals.map((r) => [r.actor, r.cluster, r.outcome, r.objects?.configured]),
      [["reconcile", "edge-1", "healed", [`ConfigMap ${namespace}/a`]]],
    );
  });

  test("a merge whose webhook never came is deployed on an agent cluster by the next reconcile, saying so", async () => {
    const env = "edge-lost";
    const repo = await agentRepo(env, "edge-1");
    await deploy(repo, env, { "deploy/flags.yaml": configMapYaml("flags", { v: "1" }) });
    const lost = await h.merge(repo, { "deploy/flags.yaml": configMapYaml("flags", { v: "2" }) });
    const final = (await h.finalStatus(repo, lost.sha, `ferry/deploy/${env}`, 90_000)).at(-1);
    assert.equal(final?.state, "success", final?.description);
    assert.match(
      final?.description ?? "",
      new RegExp(`^deployed by reconcile: no webhook was received for ${lost.sha.slice(0, 7)}: \\+0 ~1 −0`),
    );
    assert.deepEqual(await configMapOn("edge-1", repo.namespace, "flags"), { v: "2" });
  });

  test("an unhealthy release on an agent cluster with onFailure: rollback is rolled back to the earlier commit, and reported", async () => {
    const env = "edge-rollback";
    const repo = await agentRepo(env, "edge-1", { wait: { timeout: "15s" }, onFailure: "rollback" });
    const { namespace } = repo;
    const { merge: good } = await deploy(repo, env, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
    // The bare API server runs no controller: the Deployment never becomes available.
    const { merge: bad, final } = await deploy(
      repo,
      env,
      { "deploy/a.yaml": configMapYaml("a", { v: "2" }), "deploy/web.yaml": deploymentYaml("web") },
      "failure",
    );
    assert.match(final.description, new RegExp(`^rolled back to ${good.sha.slice(0, 7)}: Deployment ${namespace}/web`));
    assert.ok(
      h.statuses(repo, bad.sha).some((s) => s.state === "pending" && /^rolling back: /.test(s.description)),
      JSON.stringify(h.statuses(repo, bad.sha)),
    );
    // The cluster runs the earlier commit again: its value back, the failed release's Deployment pruned.
    assert.deepEqual(await configMapOn("edge-1", namespace, "a"), { v: "1" });
    assert.equal(await readOn("edge-1", "Deployment", "apps/v1", namespace, "web"), undefined);
    const [comment = ""] = await h.comments(repo, bad.number, /rolled back to/, 60_000);
    assert.match(comment, new RegExp(`rolled back to \`${good.sha.slice(0, 7)}\``));
    const rollbacks = (await audit.records("github", repo.fullName, env)).filter((r) => r.action === "rollback");
    assert.deepEqual(
      rollbacks.map((r) => [r.cluster, r.sha, r.outcome]),
      [["edge-1", good.sha, "success"]],
    );
    // The agent released the earlier commit as the failed one's rollback.
    assert.match(
      agents.get("edge-1")?.output() ?? "",
      new RegExp(`"sha":"${good.sha}".*"rollbackOf":"${bad.sha}".*"outcome":"released","msg":"release finished"`),
    );
  });

  test("reconcile.watch on an agent cluster: its agent watches, and a hand edit is drift within 10 s (the interval is an hour); Ferry's own release is not a change", async () => {
    const env = "edge-watch";
    const repo = await agentRepo(env, "edge-1", { reconcile: { interval: "1h", watch: true } });
    const { namespace } = repo;
    await deploy(repo, env, {
      "deploy/a.yaml": configMapYaml("a", { v: "1" }),
      "deploy/b.yaml": configMapYaml("b", { v: "1" }),
    });
    await waitForDrift(repo, env, "success", /^in sync/);
    const agentLog = () => agents.get("edge-1")?.output() ?? "";
    await waitUntil(
      "the agent never watched the environment's ConfigMaps",
      () => agentLog().includes(`"path":"/api/v1/namespaces/${namespace}/configmaps","msg":"watching"`),
      30_000,
    );
    // Ferry's own release changes `a`; its reconcile right after it is done before the hand edit.
    const { merge: second } = await deploy(repo, env, { "deploy/a.yaml": configMapYaml("a", { v: "2" }) });
    assert.equal((await h.finalStatus(repo, second.sha, `ferry/drift/${env}`, 60_000)).at(-1)?.state, "success");

    const edited = Date.now();
    await editOn("edge-1", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "b", namespace },
      data: { v: "4" },
    });
    await waitForDrift(
      repo,
      env,
      "failure",
      new RegExp(`^1 object drifted: ConfigMap ${namespace}/b data\\.v "1"→"4" by kubectl-edit$`),
      WATCH_BOUND_MS,
    );
    console.log(`agent-reconcile: a hand edit on an agent cluster seen as drift in ${Date.now() - edited} ms`);
    // One watch delivers a collection's events in order: the hand edit's came after the release's,
    // and only the hand edit was told to Ferry as a change.
    const told = [...agentLog().matchAll(/"why":"([^"]*)","environments":\["edge-watch"\]/g)].map((m) => m[1]);
    assert.deepEqual(told, [`MODIFIED ${namespace}/b`], agentLog());
  });

  test("an agent that went away makes its cluster's drift status say so, never in sync, and keeps the drift issue open", async () => {
    const env = "edge-away";
    const repo = await agentRepo(env, "edge-3");
    const { namespace } = repo;
    await deploy(repo, env, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
    await waitForDrift(repo, env, "success", /^in sync/);
    await editOn("edge-3", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "a", namespace },
      data: { v: "7" },
    });
    const drift = new RegExp(`^1 object drifted: ConfigMap ${namespace}/a data\\.v "1"→"7" by kubectl-edit$`);
    await waitForDrift(repo, env, "failure", drift);
    await waitUntil("no drift issue", () => h.forge.issues(repo.fullName).some((i) => i.state === "open"), 30_000);
    await agents.get("edge-3")?.stop("SIGKILL");
    await waitForDrift(
      repo,
      env,
      "failure",
      new RegExp(`^not checked: unreachable: the agent of cluster edge-3 was not seen for ${AGENT_TIMEOUT_S}s`),
    );
    // Back, the agent finds the drift still there; nothing in between took the issue for in sync.
    await startAgent("edge-3");
    await waitForDrift(repo, env, "failure", drift);
    const issues = h.forge.issues(repo.fullName);
    assert.deepEqual(
      issues.map((i) => [i.state, i.comments.filter((c) => /Back in sync/.test(c)).length]),
      [["open", 0]],
      JSON.stringify(issues),
    );
  });
});
