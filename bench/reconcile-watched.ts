/**
 * The watch cache's cases of the reconcile benchmark (see reconcile.bench.ts): plan-1000-watched and
 * watch-cache-rss.
 */
import { readFile } from "node:fs/promises";
import pLimit from "p-limit";
import type { Environment } from "../src/config/ferry-config.js";
import type { KubeClient } from "../src/kube/kube-client.js";
import { serverSideApply } from "../src/kube/apply.js";
import { prepareObjects } from "../src/kube/desired-object.js";
import { inventoryLocation } from "../src/kube/inventory.js";
import { INVENTORY_ANNOTATION, MANAGED_BY_LABEL } from "../src/kube/labels.js";
import { createLogger } from "../src/logger.js";
import type { Grant } from "../src/policy/policy.js";
import { connectRedis } from "../src/queue/redis-connection.js";
import { planEnvironment } from "../src/release/plan-environment.js";
import { releaseEnvironment } from "../src/release/release-session.js";
import type { RenderedObject } from "../src/render/types.js";
import { cachedLiveReader } from "../src/watch/cached-live-reader.js";
import { ResourceWatch } from "../src/watch/resource-watch.js";
import { WatchCache } from "../src/watch/watch-cache.js";
import { WatchCaches } from "../src/watch/watch-caches.js";
import { WatchRegistry } from "../src/watch/watch-registry.js";
import { FerryHarness } from "../test/support/ferry-harness.js";
import { FerryProcess } from "../test/support/ferry-process.js";
import { parsePrometheusText } from "../test/support/prometheus-text.js";
import { waitUntil } from "../test/support/wait-until.js";
import { benchCase, type BenchCase } from "./bench-case.js";

const PLAN_OBJECTS = 1000;
const PLAN_RUNS = 7;
const RSS_NAMESPACES = 100;
const RSS_OBJECTS = 1000;
const SELECTOR = `${MANAGED_BY_LABEL}=ferry`;

/** ConfigMap `cm-<n>` as the plan benchmark has it; `changed` objects get another color. */
const configMap = (n: number, changed: boolean): RenderedObject => ({
  source: "deploy/objects.yaml",
  object: {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: `cm-${n}`, labels: { app: "bench" } },
    data: { index: String(n), color: changed ? "green" : "blue", payload: "x".repeat(200) },
  },
});

/**
 * plan-1000-watched: 1,000 ConfigMaps released, then a commit changing a third of them planned with
 * live state from a watch cache (as a worker holding the namespace's watch has it) and by today's
 * path, alternately, RUNS times each; both plans must agree. plan-1000-dry-runs-only: in the same
 * runs, the server-side dry-runs of the changed third alone, which every plan must make (validation
 * stays server-side): the least a plan can cost, and so the lowest ratio any live-state reader reaches.
 */
export async function planWatched(client: KubeClient): Promise<BenchCase[]> {
  const namespace = `plan-watched-${Date.now()}`;
  await client.call("POST", "/api/v1/namespaces", {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: namespace },
  });
  const env: Environment = { name: "bench", branch: "main", path: "deploy", cluster: "bench", namespace, prune: true };
  const grant: Grant = { cluster: "bench", namespaces: ["*"], clusterScopedKinds: [] };
  const target = { client, repository: "bench/plan-watched", env, grant };
  const all = (changedEvery: number) =>
    Array.from({ length: PLAN_OBJECTS }, (_, n) => configMap(n, changedEvery > 0 && n % changedEvery === 0));
  await releaseEnvironment({ ...target, rendered: all(0), sha: "base", actor: "bench" });

  const path = `/api/v1/namespaces/${namespace}/configmaps`;
  const cache = new WatchCache();
  const caches = new WatchCaches();
  caches.add("bench", path, cache);
  const watch = new ResourceWatch({
    client,
    path,
    labelSelector: SELECTOR,
    cache,
    onChange: () => undefined,
    log: createLogger({ level: "silent" }),
  });
  watch.start();
  const watched: number[] = [];
  const listed: number[] = [];
  const dryRuns: number[] = [];
  try {
    await waitUntil("the watch cache never became fresh", () => cache.fresh(), 30_000, 20);
    const rendered = all(3);
    const changed = await prepareObjects(
      client,
      rendered.filter((_, n) => n % 3 === 0),
      namespace,
      inventoryLocation(target.repository, env.name, namespace).id,
    );
    let fromCache = 0;
    const timed = async (into: number[], withCache: boolean) => {
      const start = performance.now();
      const plan = await planEnvironment({
        ...target,
        rendered,
        sha: "changed",
        ...(withCache
          ? { live: cachedLiveReader({ caches, cluster: "bench", client, onRead: (r) => (fromCache += r.cached) }) }
          : {}),
      });
      into.push(performance.now() - start);
      if (plan.counts.update !== Math.ceil(PLAN_OBJECTS / 3))
        throw new Error(`expected ${Math.ceil(PLAN_OBJECTS / 3)} updates, planned ${JSON.stringify(plan.counts)}`);
      return plan;
    };
    for (let run = 0; run < PLAN_RUNS; run++) {
      // Alternate which goes first, so neither always meets a server warmed by the other.
      const [first, second] = run % 2 === 0 ? [true, false] : [false, true];
      const a = await timed(first ? watched : listed, first);
      const b = await timed(second ? watched : listed, second);
      if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error("the plan from the cache differs from today's");
      const start = performance.now();
      const { refused } = await serverSideApply(client, changed, { dryRun: true });
      dryRuns.push(performance.now() - start);
      if (refused.length > 0) throw new Error(`the dry-runs were refused: ${refused[0]?.message}`);
    }
    if (fromCache === 0) throw new Error("no plan read the cache");
  } finally {
    await watch.stop();
  }
  console.log(
    `  plan-${PLAN_OBJECTS}-watched ${watched.map(Math.round).join(", ")} ms; LIST path ${listed.map(Math.round).join(", ")} ms; ` +
      `the ${Math.ceil(PLAN_OBJECTS / 3)} dry-runs alone ${dryRuns.map(Math.round).join(", ")} ms`,
  );
  const baseline = "today's plan path (LISTs), same run";
  return [
    benchCase(`plan-${PLAN_OBJECTS}-watched`, "ms", watched, baseline, listed),
    benchCase(`plan-${PLAN_OBJECTS}-dry-runs-only`, "ms", dryRuns, baseline, listed),
  ];
}

/** Creates `count` ConfigMaps labelled and annotated as Ferry applies them in each namespace (server-side apply, field manager ferry). */
async function createWatchedObjects(client: KubeClient, namespaces: string[], count: number): Promise<void> {
  const limit = pLimit(32);
  await Promise.all(
    namespaces.flatMap((namespace) => [
      limit(() =>
        client.call("POST", "/api/v1/namespaces", {
          apiVersion: "v1",
          kind: "Namespace",
          metadata: { name: namespace },
        }),
      ),
    ]),
  );
  await Promise.all(
    namespaces.flatMap((namespace) =>
      Array.from({ length: count }, (_, n) =>
        limit(() =>
          client.call(
            "PATCH",
            `/api/v1/namespaces/${namespace}/configmaps/cm-${n}?fieldManager=ferry&force=true`,
            {
              apiVersion: "v1",
              kind: "ConfigMap",
              metadata: {
                name: `cm-${n}`,
                labels: { app: "bench", [MANAGED_BY_LABEL]: "ferry" },
                annotations: { [INVENTORY_ANNOTATION]: `${namespace}/ferry-inventory-bench` },
              },
              data: { index: String(n), color: "blue", payload: "x".repeat(200) },
            },
            "application/apply-patch+yaml",
          ),
        ),
      ),
    ),
  );
}

/** A process's resident memory now (VmRSS), in MB. */
async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

/**
 * watch-cache-rss: a `ferry worker` of its own (the harness's Ferry is web only) told to watch 100
 * namespaces of 1,000 ConfigMaps each (the watch registry written as reconciles write it); its RSS
 * once every cache holds its namespace, against its RSS before it watched anything.
 */
export async function watchCacheRss(kubeconfig: string): Promise<BenchCase> {
  const h = await FerryHarness.start(
    "github",
    {},
    { kubeconfig, logLevel: "warn", roles: { web: true, worker: false } },
  );
  const namespaces = Array.from({ length: RSS_NAMESPACES }, (_, i) => `rss-${Date.now()}-${i}`);
  const { KubeClient } = await import("../src/kube/kube-client.js");
  const client = await KubeClient.fromKubeConfig(h.kc);
  const redis = connectRedis(h.redisUrl);
  let worker: FerryProcess | undefined;
  try {
    const created = performance.now();
    await createWatchedObjects(client, namespaces, RSS_OBJECTS);
    console.log(
      `  watch-cache-rss: ${RSS_NAMESPACES * RSS_OBJECTS} objects created in ${Math.round((performance.now() - created) / 1000)} s`,
    );
    worker = await FerryProcess.start(h, "worker");
    const pid = worker.pid;
    await new Promise((r) => setTimeout(r, 3_000));
    const idle = await rssMb(pid);
    const registry = new WatchRegistry(redis);
    for (const [i, namespace] of namespaces.entries())
      await registry.record(`bench-rss-${i}`, {
        data: {
          repo: { forge: "github", fullName: "acme/rss" },
          branch: "main",
          environment: `env-${i}`,
          cluster: "test",
          namespace,
          drift: "report",
          watch: true,
          everyMs: 3_600_000,
        },
        inventory: `${namespace}/ferry-inventory-bench`,
        collections: [`/api/v1/namespaces/${namespace}/configmaps`],
      });
    const metric = async (name: string) =>
      parsePrometheusText(await (await fetch(`${worker?.url}/metrics`)).text()).find((s) => s.name === name)?.value ??
      0;
    const filled = performance.now();
    let held = 0;
    await waitUntil(
      () => `the worker's caches hold ${held} objects`,
      async () => (held = await metric("ferry_watch_cache_objects")) === RSS_NAMESPACES * RSS_OBJECTS,
      600_000,
      1_000,
    );
    const fillSeconds = Math.round((performance.now() - filled) / 1000);
    // Settled: what a worker keeps holding, not the garbage of the lists it filled them from.
    await new Promise((r) => setTimeout(r, 10_000));
    const watching = await rssMb(pid);
    const bytes = await metric("ferry_watch_cache_bytes");
    const heap = await metric("nodejs_heap_size_used_bytes");
    console.log(
      `  watch-cache-rss: RSS ${Math.round(idle)} MB idle → ${Math.round(watching)} MB watching (filled in ${fillSeconds} s; ` +
        `caches hold ${Math.round(bytes / 1e6)} MB of JSON, ${Math.round(bytes / (RSS_NAMESPACES * RSS_OBJECTS))} characters an object; ` +
        `V8 heap used ${Math.round(heap / 2 ** 20)} MB; ` +
        `peak ${Math.round((await worker.peakRss()) / 2 ** 20)} MB)`,
    );
    return benchCase("watch-cache-rss", "MB", [watching], "the same worker before it watched anything", [idle]);
  } finally {
    await worker?.stop();
    redis.disconnect();
    client.close();
    await h.close();
  }
}
