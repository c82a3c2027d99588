/**
 * reconcile: continuous reconciliation through Ferry's whole path (in-process web and worker, a
 * GitHub simulator, Redis), on the run's control plane.
 *
 * - drift-detect-latency: with `reconcile.watch`, the time from an edit by another field manager
 *   (`kubectl-edit`) to the failing `ferry/drift/<env>` status on the forge; median of EDITS edits,
 *   each to another object. Baseline: the same edit reaching a bare watch of the same collection (how
 *   soon anyone can know); target p50 ≤ 3 s (the value).
 * - reconcile-1000-in-sync: one reconcile of an environment of 1,000 unchanged ConfigMaps, as the
 *   worker ran it (BullMQ's processedOn → finishedOn), median of RUNS; baseline `kubectl diff
 *   --server-side` over the same objects, same run; target ratio ≤ 0.1.
 * - plan-1000-watched: `planEnvironment` of 1,000 ConfigMaps, a third of them changed, reading live
 *   state from a fresh watch cache (no LIST); median of RUNS, alternating with the baseline, today's
 *   plan path (LISTs) over the same objects in the same run; target ratio ≤ 0.6. With it,
 *   plan-1000-dry-runs-only: the dry-runs of the changed third alone, which every plan makes (the
 *   floor of any plan's time, against the same baseline).
 * - watch-cache-rss: a `ferry worker` process's RSS once it watches 100 namespaces of 1,000 ConfigMaps
 *   each with every cache filled (value, MB); baseline the same worker's RSS before it watched anything.
 */
import { spawnSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Queue, QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import { KubeClient } from "../src/kube/kube-client.js";
import { createLogger } from "../src/logger.js";
import { RECONCILE_QUEUE, type ReconcileJobData } from "../src/queue/reconcile-request.js";
import { ResourceWatch } from "../src/watch/resource-watch.js";
import { configMapYaml, FerryHarness, type TestRepo } from "../test/support/ferry-harness.js";
import { waitUntil } from "../test/support/wait-until.js";
import { benchCase, type BenchCase, type BenchContext } from "./bench-case.js";
import { planWatched, watchCacheRss } from "./reconcile-watched.js";

const EDITS = 10;
const OBJECTS = 1000;
const RUNS = 5;

/** `count` ConfigMaps `cm-<n>` in ten files. */
function objects(count: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let file = 0; file < 10; file++) {
    const docs = Array.from({ length: count / 10 }, (_, i) =>
      configMapYaml(`cm-${file * (count / 10) + i}`, { color: "blue", payload: "x".repeat(200) }),
    );
    files[`deploy/objects-${file}.yaml`] = docs.join("---\n");
  }
  return files;
}

/** Merges `files` into a new repository's environment (reconciled hourly, watched or not) and waits for the release. */
async function released(h: FerryHarness, files: Record<string, string>, watch: boolean): Promise<TestRepo> {
  const repo = await h.createRepo({
    environment: { name: "bench", wait: false, reconcile: { interval: "1h", watch } },
  });
  const merge = await h.merge(repo, files);
  await h.deliver(merge.delivery);
  const final = (await h.finalStatus(repo, merge.sha, "ferry/deploy/bench", 300_000)).at(-1);
  if (final?.state !== "success") throw new Error(`the release failed: ${final?.description}`);
  return repo;
}

/** An edit as `kubectl edit` makes it: a merge patch by the `kubectl-edit` field manager. */
const edit = (client: KubeClient, namespace: string, name: string) =>
  client.call(
    "PATCH",
    `/api/v1/namespaces/${namespace}/configmaps/${name}?fieldManager=kubectl-edit`,
    { data: { color: "red" } },
    "application/merge-patch+json",
  );

async function detectLatency(h: FerryHarness, client: KubeClient): Promise<BenchCase> {
  const repo = await released(h, objects(20), true);
  const drift = () =>
    h
      .statuses(repo)
      .filter((s) => s.context === "ferry/drift/bench")
      .at(-1);
  await waitUntil("no first drift status", () => drift()?.state === "success", 60_000);
  await waitUntil(
    "Ferry never watched the objects",
    async () => /^ferry_watches \d*[1-9]/m.test(await (await fetch(`${h.url}/metrics`)).text()),
    60_000,
  );
  const seenByWatch = new Map<string, number>();
  const bare = new ResourceWatch({
    client,
    path: `/api/v1/namespaces/${repo.namespace}/configmaps`,
    labelSelector: "app.kubernetes.io/managed-by=ferry",
    onChange: (e) => {
      const name = e.object.metadata?.name ?? "";
      if (e.type === "MODIFIED" && !seenByWatch.has(name)) seenByWatch.set(name, performance.now());
    },
    log: createLogger({ level: "silent" }),
  });
  bare.start();
  const ferry: number[] = [];
  const watch: number[] = [];
  try {
    // The bare watch must be open before the first edit: a throwaway change it sees proves it.
    await edit(client, repo.namespace, "cm-19");
    await waitUntil("the bare watch never opened", () => seenByWatch.has("cm-19"), 30_000);
    await waitUntil(
      "no drift for the warm-up edit",
      () => /^1 object drifted/.test(drift()?.description ?? ""),
      30_000,
    );
    for (let i = 0; i < EDITS; i++) {
      // Past the debounce of the previous run, so each edit is a run of its own.
      await new Promise((r) => setTimeout(r, 2_500));
      const name = `cm-${i}`;
      const start = performance.now();
      await edit(client, repo.namespace, name);
      const pattern = new RegExp(`^${i + 2} objects drifted`);
      await waitUntil(`edit ${i} never reported`, () => pattern.test(drift()?.description ?? ""), 30_000, 5);
      ferry.push(performance.now() - start);
      watch.push((seenByWatch.get(name) ?? Number.NaN) - start);
    }
  } finally {
    await bare.stop();
  }
  console.log(
    `  drift-detect-latency ${ferry.map(Math.round).join(", ")} ms; bare watch ${watch.map(Math.round).join(", ")} ms`,
  );
  return benchCase("drift-detect-latency", "ms", ferry, "the edit seen by a bare watch", watch);
}

async function reconcileInSync(h: FerryHarness, context: BenchContext): Promise<BenchCase> {
  const files = objects(OBJECTS);
  const repo = await released(h, files, false);
  const connection = new Redis(h.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue<ReconcileJobData>(RECONCILE_QUEUE, { connection });
  // BullMQ leaves a connection it was given open: closed below, or it retries forever once Redis stops.
  const eventsConnection = connection.duplicate();
  const events = new QueueEvents(RECONCILE_QUEUE, { connection: eventsConnection });
  const ferry: number[] = [];
  const baseline: number[] = [];
  try {
    await events.waitUntilReady();
    const schedulers = await queue.getJobSchedulers(0, -1, true);
    const data = schedulers.map((s) => s.template?.data).find((d) => d?.repo.fullName === repo.fullName);
    if (data === undefined) throw new Error("the environment's reconcile was not scheduled");
    // kubectl's copy of the same objects, in a namespace of its own.
    const dir = join(context.workDir, "reconcile", "deploy");
    await mkdir(dir, { recursive: true });
    for (const [path, text] of Object.entries(files)) await writeFile(join(dir, path.slice("deploy/".length)), text);
    const kns = `${repo.namespace}-kubectl`;
    const kubectl = (...args: string[]) =>
      spawnSync(context.kubectl, ["--kubeconfig", context.kubeconfig, ...args], { stdio: "ignore" });
    kubectl("create", "namespace", kns);
    if (kubectl("apply", "--server-side", "-n", kns, "-f", dir).status !== 0) throw new Error("kubectl apply failed");
    for (let run = 0; run < RUNS; run++) {
      const job = await queue.add("reconcile", data);
      const outcome = (await job.waitUntilFinished(events, 120_000)) as { state?: string; drifted?: number };
      if (outcome.state !== "checked" || outcome.drifted !== 0)
        throw new Error(`the reconcile found ${JSON.stringify(outcome)}, not an environment in sync`);
      const done = await queue.getJob(job.id ?? "");
      ferry.push((done?.finishedOn ?? 0) - (done?.processedOn ?? 0));
      const start = performance.now();
      const diff = kubectl("diff", "--server-side", "-n", kns, "-f", dir);
      baseline.push(performance.now() - start);
      if (diff.status !== 0) throw new Error(`kubectl diff exited ${diff.status}, expected 0 (no differences)`);
    }
  } finally {
    await events.close();
    await queue.close();
    connection.disconnect();
    eventsConnection.disconnect();
  }
  console.log(
    `  reconcile-${OBJECTS}-in-sync ${ferry.join(", ")} ms; kubectl diff ${baseline.map(Math.round).join(", ")} ms`,
  );
  return benchCase(`reconcile-${OBJECTS}-in-sync`, "ms", ferry, "kubectl diff --server-side", baseline);
}

/**
 * Runs the cases through Ferry's whole path against one Ferry, then the watch cache's cases (the
 * plan with a cache of its own; the RSS with a worker process of its own). `FERRY_BENCH_CASES`
 * (comma-separated names) runs only those.
 */
export async function run(context: BenchContext): Promise<BenchCase[]> {
  const only = process.env.FERRY_BENCH_CASES?.split(",");
  const wanted = (name: string) => only === undefined || only.includes(name);
  const cases: BenchCase[] = [];
  const throughFerry = ["drift-detect-latency", `reconcile-${OBJECTS}-in-sync`, `plan-${OBJECTS}-watched`];
  if (throughFerry.some(wanted)) {
    const h = await FerryHarness.start("github", {}, { kubeconfig: context.kubeconfig, logLevel: "warn" });
    const client = await KubeClient.fromKubeConfig(h.kc);
    try {
      if (wanted("drift-detect-latency")) cases.push(await detectLatency(h, client));
      if (wanted(`reconcile-${OBJECTS}-in-sync`)) cases.push(await reconcileInSync(h, context));
      if (wanted(`plan-${OBJECTS}-watched`)) cases.push(...(await planWatched(client)));
    } finally {
      client.close();
      await h.close();
    }
  }
  if (wanted("watch-cache-rss")) cases.push(await watchCacheRss(context.kubeconfig));
  return cases;
}
