/**
 * Plans fed by the watch cache (`reconcile.watch: true`), on an API server of the test's own so the
 * LISTs it counts (its `apiserver_request_total`) are this test's: a plan from a fresh cache makes no
 * LIST of the watched collection and plans exactly what the LIST path plans, an edit by another
 * manager a moment before included; a cache whose watch is disconnected or silent is not trusted
 * and the plan LISTs as before.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import { parseFerryConfig, type Environment } from "../src/config/ferry-config.js";
import { loadServerConfig } from "../src/config/server-config.js";
import { rolloutWaves } from "../src/fleet/rollout-waves.js";
import { KubeClient, type WatchEvent } from "../src/kube/kube-client.js";
import { MANAGED_BY_LABEL } from "../src/kube/labels.js";
import { createLogger } from "../src/logger.js";
import type { EnvironmentPlan } from "../src/plan/types.js";
import { grantFor, type Grant } from "../src/policy/policy.js";
import { planEnvironment } from "../src/release/plan-environment.js";
import { releaseEnvironment } from "../src/release/release-session.js";
import { PlainRenderer } from "../src/render/plain-renderer.js";
import type { RenderedObject } from "../src/render/types.js";
import { fullPlanText } from "../src/report/plan-comment.js";
import { cachedLiveReader } from "../src/watch/cached-live-reader.js";
import { ResourceWatch } from "../src/watch/resource-watch.js";
import { WatchCache } from "../src/watch/watch-cache.js";
import { WatchCaches } from "../src/watch/watch-caches.js";
import { configMapYaml, FerryHarness } from "./support/ferry-harness.js";
import { editByHand, uniqueName } from "./support/kube.js";
import { parsePrometheusText } from "./support/prometheus-text.js";
import { waitUntil } from "./support/wait-until.js";

const ROOT = new URL("..", import.meta.url).pathname;
const CLUSTER = "test";
const SELECTOR = `${MANAGED_BY_LABEL}=ferry`;
const OBJECTS = 30;
const log = createLogger({ level: "silent" });

/** ConfigMap `cm-<n>` as a rendered object; `color` is what a change changes. */
const configMap = (n: number, color = "blue"): RenderedObject => ({
  source: "deploy/objects.yaml",
  object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: `cm-${n}` }, data: { index: String(n), color } },
});

describe("plans fed by the watch cache", () => {
  let dir: string;
  let kubeconfig: string;
  let client: KubeClient;
  let kc: KubeConfig;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "ferry-plan-watched-"));
    kubeconfig = execFileSync(join(ROOT, "scripts/control-plane"), ["up", join(dir, "cp"), "--no-controllers"], {
      encoding: "utf8",
    }).trim();
    execFileSync(process.execPath, [join(ROOT, "bin/ferry.js"), "setup-cluster", "--kubeconfig", kubeconfig]);
    kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    client = await KubeClient.fromKubeConfig(kc);
  });
  after(async () => {
    client?.close();
    execFileSync(join(ROOT, "scripts/control-plane"), ["down", join(dir, "cp")]);
    await rm(dir, { recursive: true, force: true });
  });

  /** LISTs of ConfigMaps the API server has answered so far (any namespace, any code). */
  const configMapLists = async () =>
    parsePrometheusText(String(await client.call("GET", "/metrics")))
      .filter(
        (s) => s.name === "apiserver_request_total" && s.labels.verb === "LIST" && s.labels.resource === "configmaps",
      )
      .reduce((sum, s) => sum + s.value, 0);

  /** An edit as `kubectl edit` makes it, to a field Ferry set. */
  const editColor = (namespace: string, name: string) =>
    editByHand(kc, { apiVersion: "v1", kind: "ConfigMap", namespace, name }, { data: { color: "red" } });

  describe("planEnvironment with a watch cache", () => {
    const grant: Grant = { cluster: CLUSTER, namespaces: ["*"], clusterScopedKinds: [] };
    let namespace: string;
    let env: Environment;
    let path: string;
    /** Git's next commit: a third of the objects changed, the last one removed, one new. */
    let next: RenderedObject[];

    before(async () => {
      namespace = uniqueName("watched");
      await client.call("POST", "/api/v1/namespaces", {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: namespace },
      });
      env = { name: "watched", branch: "main", path: "deploy", cluster: CLUSTER, namespace, prune: true };
      path = `/api/v1/namespaces/${namespace}/configmaps`;
      await releaseEnvironment({
        client,
        repository: "acme/watched",
        env,
        grant,
        rendered: Array.from({ length: OBJECTS }, (_, n) => configMap(n)),
        sha: "base",
        actor: "test",
      });
      next = [
        ...Array.from({ length: OBJECTS - 1 }, (_, n) => configMap(n, n % 3 === 0 ? "green" : "blue")),
        configMap(100),
      ];
    });

    /** A watch of the namespace's ConfigMaps feeding `cache`, registered in a process's caches, and the events it saw. */
    async function watching(cache: WatchCache) {
      const caches = new WatchCaches();
      const seen: WatchEvent[] = [];
      const watch = new ResourceWatch({
        client,
        path,
        labelSelector: SELECTOR,
        cache,
        onChange: (event) => seen.push(event),
        log,
      });
      caches.add(CLUSTER, path, cache);
      watch.start();
      await waitUntil("the cache never became fresh", () => cache.fresh(), 10_000, 20);
      return { caches, watch, seen };
    }
    const plan = (live?: ReturnType<typeof cachedLiveReader>): Promise<EnvironmentPlan> =>
      planEnvironment({
        client,
        repository: "acme/watched",
        env,
        grant,
        rendered: next,
        sha: "next",
        ...(live === undefined ? {} : { live }),
      });

    test("a fresh cache: no LIST, and the same plan as the LIST path, another manager's edit included", async () => {
      const { caches, watch, seen } = await watching(new WatchCache());
      try {
        await editColor(namespace, "cm-1");
        // cm-1 is unchanged in Git: only the cache can tell the plan it moved.
        await waitUntil(
          "the watch never saw the edit",
          () => seen.some((e) => e.type === "MODIFIED" && e.object.metadata?.name === "cm-1"),
          10_000,
          5,
        );
        const reads: Array<{ cached: number; asked: number }> = [];
        const lists = await configMapLists();
        const cached = await plan(cachedLiveReader({ caches, cluster: CLUSTER, client, onRead: (r) => reads.push(r) }));
        assert.equal((await configMapLists()) - lists, 0, "the plan from the cache made no LIST of ConfigMaps");
        const listed = await plan();
        assert.ok((await configMapLists()) - lists > 0, "the LIST path does LIST: the count would have seen one");
        assert.deepEqual(cached, listed);
        assert.deepEqual(cached.counts, { create: 1, update: 11, delete: 1, unchanged: 18 });
        const edited = cached.objects.find((o) => o.ref.name === "cm-1");
        assert.match(edited?.diff ?? "", /red/, "the plan puts Git's color back on the edited object");
        // The new object is not in the cache (it does not exist): asked for by a GET, not a LIST.
        assert.ok(reads.length > 0 && reads.every((r) => r.cached > 0 && r.asked <= 1), JSON.stringify(reads));
      } finally {
        await watch.stop();
      }
    });

    test("a cache whose watch was stopped, or that heard nothing for too long, is not trusted: the plan LISTs", async () => {
      const stopped = await watching(new WatchCache());
      await stopped.watch.stop();
      let lists = await configMapLists();
      const fromStopped = await plan(cachedLiveReader({ caches: stopped.caches, cluster: CLUSTER, client }));
      assert.ok((await configMapLists()) - lists > 0, "a stopped watch's cache was read");
      assert.deepEqual(fromStopped, await plan());

      const silent = new WatchCache({ maxSilenceMs: 300 });
      const quiet = await watching(silent);
      try {
        await waitUntil("the cache stayed fresh through the silence", () => !silent.fresh(), 5_000, 20);
        lists = await configMapLists();
        const fromSilent = await plan(cachedLiveReader({ caches: quiet.caches, cluster: CLUSTER, client }));
        assert.ok((await configMapLists()) - lists > 0, "a silent watch's cache was read");
        assert.deepEqual(fromSilent, await plan());
        // Heard from again, it is trusted again.
        await editColor(namespace, "cm-2");
        await waitUntil("the edit never made the cache fresh", () => silent.fresh(), 5_000, 5);
        lists = await configMapLists();
        await plan(cachedLiveReader({ caches: quiet.caches, cluster: CLUSTER, client }));
        assert.equal((await configMapLists()) - lists, 0);
      } finally {
        await quiet.watch.stop();
      }
    });
  });

  test("through Ferry: a plan job with watches on LISTs nothing and shows an edit made a moment before", async () => {
    const h = await FerryHarness.start("github", {}, { kubeconfig });
    try {
      const repo = await h.createRepo({
        environment: { name: "watched", wait: false, reconcile: { interval: "1h", watch: true } },
      });
      const yaml = (color: (n: number) => string) =>
        Array.from({ length: OBJECTS }, (_, n) => configMapYaml(`cm-${n}`, { color: color(n) })).join("---\n");
      const merge = await h.merge(repo, { "deploy/objects.yaml": yaml(() => "blue") });
      await h.deliver(merge.delivery);
      assert.equal((await h.finalStatus(repo, merge.sha, "ferry/deploy/watched")).at(-1)?.state, "success");
      await waitUntil(
        "Ferry's watch cache never held the environment's objects",
        async () => {
          const samples = parsePrometheusText(await (await fetch(`${h.url}/metrics`)).text());
          return (samples.find((s) => s.name === "ferry_watch_cache_objects")?.value ?? 0) >= OBJECTS;
        },
        30_000,
      );

      const lists = await configMapLists();
      // Another manager edits an object Git does not change, and the change is planned right after.
      await editColor(repo.namespace, "cm-1");
      const pr = await h.openPullRequest(repo, { "deploy/objects.yaml": yaml((n) => (n === 2 ? "green" : "blue")) });
      await h.deliver(pr.delivery);
      const result = (await h.finalStatus(repo, pr.headSha, "ferry/plan/watched")).at(-1);
      assert.equal(result?.state, "success", JSON.stringify(result));
      assert.equal((await configMapLists()) - lists, 0, "the plan job made no LIST of ConfigMaps");
      const samples = parsePrometheusText(await (await fetch(`${h.url}/metrics`)).text());
      const read = (from: string) =>
        samples.find((s) => s.name === "ferry_live_objects_read_total" && s.labels.from === from)?.value ?? 0;
      assert.ok(read("cache") >= OBJECTS, `the plan read its objects from the cache (${read("cache")} read there)`);

      // The LIST path's plan of the same commit on the same cluster.
      await repo.git.checkout(pr.branch);
      const config = await loadServerConfig(h.configFile);
      const declared = parseFerryConfig(await readFile(join(repo.git.dir, ".ferry.yml"), "utf8")).environments[0];
      assert.ok(declared);
      const env = [...rolloutWaves(declared, config).targets.values()][0];
      assert.ok(env);
      const listed = await planEnvironment({
        client,
        repository: repo.fullName,
        env,
        grant: grantFor(config, repo.fullName, env),
        rendered: await new PlainRenderer().render(repo.git.dir, env),
        sha: pr.headSha,
      });
      await repo.git.checkout("main");
      assert.deepEqual(listed.counts, { create: 0, update: 2, delete: 0, unchanged: OBJECTS - 2 });
      const served = await (await h.page(result?.targetUrl ?? "")).text();
      assert.equal(
        served,
        fullPlanText({ sha: pr.headSha, plans: [listed] }),
        "the job planned what the LIST path plans",
      );
    } finally {
      await h.close();
    }
  });

  test("through Ferry: a cache past reconcile.watchCacheLimit is dropped; plans LIST, and the watch still tells drift", async () => {
    const h = await FerryHarness.start(
      "github",
      {},
      {
        kubeconfig,
        serverConfig: {
          clusters: [{ name: CLUSTER, context: "ferry-test", kubeconfig }],
          policy: [{ repositories: ["acme/*"], clusters: [CLUSTER], namespaces: ["e2e-*"], clusterScopedKinds: [] }],
          // Less than the environment's objects take: its cache cannot be kept.
          reconcile: { watchCacheLimit: "2Ki" },
        },
      },
    );
    try {
      const repo = await h.createRepo({
        environment: { name: "limited", wait: false, reconcile: { interval: "1h", watch: true } },
      });
      const yaml = (color: (n: number) => string) =>
        Array.from({ length: OBJECTS }, (_, n) => configMapYaml(`cm-${n}`, { color: color(n) })).join("---\n");
      const merge = await h.merge(repo, { "deploy/objects.yaml": yaml(() => "blue") });
      await h.deliver(merge.delivery);
      assert.equal((await h.finalStatus(repo, merge.sha, "ferry/deploy/limited")).at(-1)?.state, "success");
      const metric = async (name: string, labels: Record<string, string> = {}) =>
        parsePrometheusText(await (await fetch(`${h.url}/metrics`)).text()).find(
          (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
        )?.value ?? 0;
      await waitUntil(
        "the worker never dropped the cache",
        async () => (await metric("ferry_watch_caches_dropped")) >= 1,
        30_000,
      );
      assert.equal(await metric("ferry_watch_cache_objects"), 0, "a dropped cache holds nothing");
      assert.ok(
        h.logLines.some((l) => l.includes("watch cache dropped")),
        "the worker says why",
      );

      const lists = await configMapLists();
      const pr = await h.openPullRequest(repo, { "deploy/objects.yaml": yaml((n) => (n === 2 ? "green" : "blue")) });
      await h.deliver(pr.delivery);
      assert.equal((await h.finalStatus(repo, pr.headSha, "ferry/plan/limited")).at(-1)?.state, "success");
      assert.ok((await configMapLists()) - lists > 0, "the plan read the API server");
      assert.equal(await metric("ferry_live_objects_read_total", { from: "cache" }), 0);

      await editColor(repo.namespace, "cm-1");
      const drift = await h.waitForLatestStatus(repo, "ferry/drift/limited", "failure", /drifted/, 30_000);
      assert.match(drift.description, /cm-1/);
    } finally {
      await h.close();
    }
  });
});
