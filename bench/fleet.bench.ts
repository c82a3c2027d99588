/**
 * fleet: one merge rolled out to a fleet, webhook to final status, through Ferry's whole path (intake,
 * deploy job, rollout job, one release job per cluster, reporter) with a GitHub simulator and Redis.
 *
 * - fleet-10-clusters: 20 ConfigMaps (`wait: false`) to the run's 10 API servers in one wave, against
 *   the same release to one cluster in the same run (target ratio ≤ 2).
 * - fleet-10000-schedule: 10,000 clusters in the server config (FLEET_CLUSTERS to change it), each
 *   with a kubeconfig of its own naming one of the 10 API servers, the namespace templated by
 *   `${cluster.name}` so each cluster's ConfigMap lands in a namespace of its own, in 3 waves; against
 *   a plain loop that creates the same namespaces and server-side applies the same ConfigMaps, one
 *   client per cluster as Ferry has, at the same concurrency (target ratio ≤ 3); medians of FLEET_RUNS
 *   (default 3) runs, the loop and Ferry in turn. Also: the peak RSS of the web and of the worker
 *   process (each a process of its own) and the Redis memory a cluster's rollout state takes.
 */
import { randomUUID } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import pLimit from "p-limit";
import { parse, stringify } from "yaml";
import { KubeClient } from "../src/kube/kube-client.js";
import { readKubeconfigContext } from "../src/kube/kubeconfig.js";
import { configMapYaml, FerryHarness } from "../test/support/ferry-harness.js";
import { FerryProcess } from "../test/support/ferry-process.js";
import { benchCase, type BenchCase, type BenchContext } from "./bench-case.js";

const RUNS = 5;
const OBJECTS = 20;
const CONCURRENCY = 32;
const SCHEDULE_CLUSTERS = Number(process.env.FLEET_CLUSTERS ?? 10_000);
/** Runs of the schedule case (FLEET_RUNS to change it); each writes namespaces of its own. */
const SCHEDULE_RUNS = Number(process.env.FLEET_RUNS ?? 3);
const CONTEXT = "ferry/deploy/production";

interface Kubeconfig {
  clusters: Array<{ name: string; cluster: Record<string, unknown> }>;
  users: Array<{ name: string; user: Record<string, unknown> }>;
  contexts: Array<{ name: string; context: { cluster: string; user: string } }>;
}

/** Writes one kubeconfig per cluster (context `edge`), cluster n on API server n mod the run's servers, as a fleet of mounted Secrets would be. */
async function writeKubeconfigs(context: BenchContext, dir: string, count: number): Promise<string[]> {
  const base = parse(await readFile(context.kubeconfig, "utf8")) as Kubeconfig;
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (let n = 0; n < count; n++) {
    const ctx = base.contexts.find((c) => c.name === context.contexts[n % context.contexts.length]);
    const cluster = base.clusters.find((c) => c.name === ctx?.context.cluster);
    const user = base.users.find((u) => u.name === ctx?.context.user);
    const file = join(dir, `edge-${n}.yaml`);
    await writeFile(
      file,
      stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [cluster],
        users: [user],
        contexts: [{ name: "edge", context: ctx?.context }],
        "current-context": "edge",
      }),
    );
    files.push(file);
  }
  return files;
}

/** Merges `files` and returns the milliseconds from delivering the webhook to the final status. */
async function timedMerge(
  h: FerryHarness,
  repo: Awaited<ReturnType<FerryHarness["createRepo"]>>,
  files: Record<string, string>,
  timeoutMs: number,
  url = h.url,
): Promise<number> {
  const merge = await h.merge(repo, files);
  const start = performance.now();
  await h.forge.deliver(url, merge.delivery, randomUUID());
  const statuses = await h.finalStatus(repo, merge.sha, CONTEXT, timeoutMs);
  const took = performance.now() - start;
  if (statuses.at(-1)?.state !== "success") throw new Error(`the release failed: ${JSON.stringify(statuses.at(-1))}`);
  return took;
}

const objects = (v: string) =>
  Object.fromEntries(
    Array.from({ length: OBJECTS }, (_, i) => [
      `deploy/cm-${i}.yaml`,
      configMapYaml(`cm-${i}`, { v, pad: "x".repeat(200) }),
    ]),
  );

async function tenClusters(context: BenchContext): Promise<BenchCase> {
  const clusters = context.contexts.map((ctx, i) => ({
    name: `c${i}`,
    context: ctx,
    kubeconfig: context.kubeconfig,
    labels: { fleet: "bench" },
  }));
  const h = await FerryHarness.start(
    "github",
    {},
    {
      logLevel: "warn",
      concurrency: CONCURRENCY,
      serverConfig: { clusters, policy: [{ repositories: ["acme/*"], clusters: ["*"], namespaces: ["e2e-*"] }] },
    },
  );
  try {
    const fleet: number[] = [];
    const single: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const one = await h.createRepo({
        environments: (namespace) => [
          { name: "production", branch: "main", path: "deploy", cluster: "c0", namespace, wait: false },
        ],
      });
      single.push(await timedMerge(h, one, objects(String(run)), 120_000));
      const ten = await h.createRepo({
        environments: (namespace) => [
          {
            name: "production",
            branch: "main",
            path: "deploy",
            clusters: { matchLabels: { fleet: "bench" } },
            namespace,
            wait: false,
          },
        ],
      });
      fleet.push(await timedMerge(h, ten, objects(String(run)), 120_000));
    }
    console.log(
      `  fleet-10 runs ${fleet.map(Math.round).join(", ")} ms; one cluster ${single.map(Math.round).join(", ")} ms`,
    );
    return benchCase("fleet-10-clusters", "ms", fleet, "the same release to one cluster", single);
  } finally {
    await h.close();
  }
}

/** The same namespaces and ConfigMaps by a plain loop: a client per cluster, CONCURRENCY at once; returns the milliseconds taken. */
async function plainLoop(files: string[], prefix: string): Promise<number> {
  const limit = pLimit(CONCURRENCY);
  const clients: KubeClient[] = [];
  const start = performance.now();
  await Promise.all(
    files.map((file, n) =>
      limit(async () => {
        const found = await readKubeconfigContext({ file, context: "edge", what: `edge-${n}` });
        if (found.kind !== "static") throw new Error("static kubeconfig expected");
        const client = KubeClient.fromConnection(found.connection);
        clients.push(client);
        const ns = `${prefix}-edge-${n}`;
        await client.call(
          "PATCH",
          `/api/v1/namespaces/${ns}?fieldManager=bench&force=true`,
          { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } },
          "application/apply-patch+yaml",
        );
        const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "site", namespace: ns }, data: { v: "1" } };
        await client.call(
          "PATCH",
          `/api/v1/namespaces/${ns}/configmaps/site?fieldManager=bench&force=true`,
          cm,
          "application/apply-patch+yaml",
        );
      }),
    ),
  );
  const took = performance.now() - start;
  for (const client of clients) client.close();
  return took;
}

async function schedule(context: BenchContext): Promise<BenchCase[]> {
  const files = await writeKubeconfigs(context, join(context.workDir, "fleet-kubeconfigs"), SCHEDULE_CLUSTERS);
  const clusters = files.map((file, n) => ({
    name: `edge-${n}`,
    context: "edge",
    kubeconfig: file,
    labels: { ring: n < 10 ? "canary" : "main", half: n % 2 === 0 ? "a" : "b" },
  }));
  // Web and worker each in a process of their own, as an install that scales them apart runs them,
  // so each one's peak memory is its own; the harness holds Redis and the forge's simulator.
  const h = await FerryHarness.start(
    "github",
    {},
    {
      roles: { web: false, worker: false },
      logLevel: "warn",
      serverConfig: { clusters, policy: [{ repositories: ["acme/*"], clusters: ["*"], namespaces: ["e2e-*"] }] },
    },
  );
  const processes: FerryProcess[] = [];
  try {
    const env: NodeJS.ProcessEnv = { FERRY_CONCURRENCY: String(CONCURRENCY) };
    const web = await FerryProcess.start(h, "web", env);
    const worker = await FerryProcess.start(h, "worker", env);
    processes.push(web, worker);
    const idle = { web: await web.peakRss(), worker: await worker.peakRss() };
    const ferry: number[] = [];
    const loop: number[] = [];
    const redis: number[] = [];
    // Each run writes namespaces of its own (new ones, as on a first release), the loop and Ferry in turn.
    for (let run = 0; run < SCHEDULE_RUNS; run++) {
      loop.push(await plainLoop(files, `e2e-base${run}`));
      const redisBefore = await usedMemory(h);
      const repo = await h.createRepo({
        environments: () => [
          {
            name: "production",
            branch: "main",
            path: "deploy",
            render: "plain",
            namespace: `e2e-f${run}-\${cluster.name}`,
            clusters: { matchExpressions: [{ key: "ring", operator: "Exists" }] },
            wait: false,
            rollout: {
              waves: [
                { name: "canary", clusters: { matchLabels: { ring: "canary" } } },
                { name: "half", clusters: { matchLabels: { half: "a" } } },
                { name: "rest" },
              ],
            },
          },
        ],
      });
      ferry.push(
        await timedMerge(h, repo, { "deploy/site.yaml": configMapYaml("site", { v: "1" }) }, 3_600_000, web.url),
      );
      redis.push(((await usedMemory(h)) - redisBefore) / SCHEDULE_CLUSTERS);
    }
    const peak = { web: await web.peakRss(), worker: await worker.peakRss() };
    const mib = (b: number) => b / 2 ** 20;
    console.log(
      `  fleet-${SCHEDULE_CLUSTERS}: ferry ${ferry.map(Math.round).join(", ")} ms; loop ${loop.map(Math.round).join(", ")} ms; peak rss web ${Math.round(mib(peak.web))} MiB, worker ${Math.round(mib(peak.worker))} MiB; redis ${redis.map(Math.round).join(", ")} B per cluster`,
    );
    return [
      benchCase(
        `fleet-${SCHEDULE_CLUSTERS}-schedule`,
        "ms",
        ferry,
        "a plain loop of namespace + server-side apply per cluster, same concurrency",
        loop,
      ),
      benchCase(
        `fleet-${SCHEDULE_CLUSTERS}-web-peak-rss`,
        "MiB",
        [mib(peak.web)],
        "the web process, started and idle",
        [mib(idle.web)],
      ),
      benchCase(
        `fleet-${SCHEDULE_CLUSTERS}-worker-peak-rss`,
        "MiB",
        [mib(peak.worker)],
        "the worker process, started and idle",
        [mib(idle.worker)],
      ),
      benchCase(
        `fleet-${SCHEDULE_CLUSTERS}-redis-bytes-per-cluster`,
        "B",
        redis,
        "one ConfigMap's manifest, as rendered",
        [Buffer.byteLength(configMapYaml("site", { v: "1" }))],
      ),
    ];
  } finally {
    for (const p of processes) await p.stop();
    await h.close();
  }
}

/** Redis's used_memory in bytes. */
async function usedMemory(h: FerryHarness): Promise<number> {
  const { Redis } = await import("ioredis");
  const redis = new Redis(h.redisUrl);
  try {
    const info = await redis.info("memory");
    return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
  } finally {
    redis.disconnect();
  }
}

/** Runs both cases. */
export async function run(context: BenchContext): Promise<BenchCase[]> {
  process.env.FERRY_TEST_KUBECONFIG = context.kubeconfig;
  return [await tenClusters(context), ...(await schedule(context))];
}
