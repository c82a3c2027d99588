/**
 * `reconcile.watch: true`: the environment's objects are watched, and a change by another field
 * manager is reported (or healed) within seconds, not at the next interval (here an hour away).
 * Then 100 watched environments on an API server of the test's own: one watch per namespace, as the
 * API server's own metrics count them.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { KubernetesObjectApi } from "@kubernetes/client-node";
import { KubeClient } from "../src/kube/kube-client.js";
import { configMapYaml, FerryHarness, FORGES, TEST_CLUSTER, type TestRepo } from "./support/ferry-harness.js";
import { editByHand } from "./support/kube.js";
import { parsePrometheusText, sumOf } from "./support/prometheus-text.js";
import { waitUntil } from "./support/wait-until.js";

const ROOT = new URL("..", import.meta.url).pathname;
/** The bound from a change to its drift status, with watches on. */
const WATCH_BOUND_MS = 10_000;

/** The sum of the series `name` in Prometheus text whose labels `matches` accepts. */
const gauge = (text: string, name: string, matches?: (labels: Record<string, string>) => boolean): number =>
  sumOf(parsePrometheusText(text), name, matches);

for (const forge of FORGES)
  describe(`drift seen by watches (${forge})`, () => {
    let h: FerryHarness;
    before(async () => (h = await FerryHarness.start(forge)));
    after(async () => h.close());

    const watchedRepo = (env: string, drift = "report") =>
      h.createRepo({ environment: { name: env, wait: false, reconcile: { interval: "1h", drift, watch: true } } });
    const waitForDrift = (repo: TestRepo, env: string, state: "success" | "failure", pattern: RegExp, ms?: number) =>
      h.waitForLatestStatus(repo, `ferry/drift/${env}`, state, pattern, ms);
    /** Merges `files` and waits for the release, then for the first reconcile (right after it) and a watch of its objects. */
    async function deployWatched(repo: TestRepo, env: string, files: Record<string, string>): Promise<void> {
      const merge = await h.merge(repo, files);
      await h.deliver(merge.delivery);
      assert.equal((await h.finalStatus(repo, merge.sha, `ferry/deploy/${env}`)).at(-1)?.state, "success");
      await waitForDrift(repo, env, "success", /^in sync/);
      await waitUntil(
        "Ferry never watched the environment's objects",
        async () => gauge(await (await fetch(`${h.url}/metrics`)).text(), "ferry_watches") >= 1,
        30_000,
        100,
      );
    }
    const editConfigMap = (repo: TestRepo, name: string, data: Record<string, string>) =>
      editByHand(h.kc, { apiVersion: "v1", kind: "ConfigMap", namespace: repo.namespace, name }, { data });

    test("an edit by another manager, and a deleted object, are reported within 10 s (the interval is an hour)", async () => {
      const env = "watched";
      const repo = await watchedRepo(env);
      await deployWatched(repo, env, {
        "deploy/flags.yaml": configMapYaml("flags", { mode: "safe" }),
        "deploy/other.yaml": configMapYaml("other", { v: "1" }),
      });

      const edited = Date.now();
      await editConfigMap(repo, "flags", { mode: "fast" });
      await waitForDrift(
        repo,
        env,
        "failure",
        new RegExp(`^1 object drifted: ConfigMap ${repo.namespace}/flags data\\.mode "safe"→"fast" by kubectl-edit$`),
        WATCH_BOUND_MS,
      );
      const editSeenMs = Date.now() - edited;

      const deleted = Date.now();
      await KubernetesObjectApi.makeApiClient(h.kc).delete({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "other", namespace: repo.namespace },
      });
      await waitForDrift(repo, env, "failure", /^2 objects drifted/, WATCH_BOUND_MS);
      console.log(`reconcile-watch (${forge}): edit seen in ${editSeenMs} ms, deletion in ${Date.now() - deleted} ms`);
    });

    test("in heal mode a watched edit is undone within 10 s", async () => {
      const env = "healed";
      const repo = await watchedRepo(env, "heal");
      await deployWatched(repo, env, { "deploy/flags.yaml": configMapYaml("flags", { mode: "safe" }) });
      await editConfigMap(repo, "flags", { mode: "fast" });
      await waitUntil(
        "the edit was never undone",
        async () =>
          ((await h.list("v1", "ConfigMap", repo.namespace)).get("flags") as { data?: { mode?: string } } | undefined)
            ?.data?.mode === "safe",
        WATCH_BOUND_MS,
        20,
      );
      await waitForDrift(repo, env, "success", /^healed 1 object/);
    });
  });

describe("100 watched environments on one API server", () => {
  const ENVIRONMENTS = 100;
  let dir: string;
  let kubeconfig: string;
  let h: FerryHarness;
  let client: KubeClient;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "ferry-watch-count-"));
    // An API server of this test's own, so the watches it counts are Ferry's (no controllers either).
    kubeconfig = execFileSync(join(ROOT, "scripts/control-plane"), ["up", join(dir, "cp"), "--no-controllers"], {
      encoding: "utf8",
    }).trim();
    execFileSync(process.execPath, [join(ROOT, "bin/ferry.js"), "setup-cluster", "--kubeconfig", kubeconfig]);
    h = await FerryHarness.start("github", {}, { kubeconfig });
    client = await KubeClient.fromKubeConfig(h.kc);
  });
  after(async () => {
    client?.close();
    await h?.close();
    execFileSync(join(ROOT, "scripts/control-plane"), ["down", join(dir, "cp")]);
    await rm(dir, { recursive: true, force: true });
  });

  test("one watch per namespace, counted by the API server", async () => {
    const repo = await h.createRepo({
      environments: (namespace) =>
        Array.from({ length: ENVIRONMENTS }, (_, i) => ({
          name: `env-${i}`,
          branch: "main",
          path: "deploy",
          cluster: TEST_CLUSTER,
          namespace: `${namespace}-${i}`,
          wait: false,
          reconcile: { interval: "1h", watch: true },
        })),
    });
    const watches = async (matches: (labels: Record<string, string>) => boolean) =>
      gauge(String(await client.call("GET", "/metrics")), "apiserver_longrunning_requests", matches);
    const NAMESPACED = (l: Record<string, string>) =>
      l.resource === "configmaps" && l.scope === "namespace" && l.verb === "WATCH";
    // The API server's own informers watch through it too (kube-system's ConfigMaps among them).
    const before = { namespaced: await watches(NAMESPACED), all: await watches((l) => l.verb === "WATCH") };
    const merge = await h.merge(repo, {
      "deploy/a.yaml": configMapYaml("a", { v: "1" }),
      "deploy/b.yaml": configMapYaml("b", { v: "1" }),
    });
    await h.deliver(merge.delivery);
    await waitUntil(
      "not every environment was released and reported in sync",
      () =>
        h.statuses(repo, merge.sha).filter((s) => s.context.startsWith("ferry/drift/") && s.state === "success")
          .length >= ENVIRONMENTS,
      300_000,
      250,
    );
    let counted = 0;
    await waitUntil(
      () => `the API server counts ${counted} more namespaced ConfigMap watches`,
      async () => (counted = (await watches(NAMESPACED)) - before.namespaced) === ENVIRONMENTS,
      60_000,
      250,
    );
    const text = await (await fetch(`${h.url}/metrics`)).text();
    assert.equal(gauge(text, "ferry_watches"), ENVIRONMENTS, "Ferry holds one per namespace");
    const all = (await watches((l) => l.verb === "WATCH")) - before.all;
    assert.equal(all, ENVIRONMENTS, "and no other watch: not one per object, none cluster-wide");
  });
});
