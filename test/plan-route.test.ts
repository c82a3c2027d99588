/**
 * Plans run where the watch cache is: with two worker processes, one of which holds the watch of an
 * environment's namespace (and its cache), every plan of the environment reads the cache — the API
 * server's LIST count of the collection does not move — whichever worker BullMQ gave the job to;
 * with the holder killed (SIGKILL), plans still complete, by LIST, each result reported once.
 * On an API server of the test's own, so the LISTs counted are this test's.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import { KubeClient } from "../src/kube/kube-client.js";
import { configMapYaml, FerryHarness, type TestRepo } from "./support/ferry-harness.js";
import { FerryProcess } from "./support/ferry-process.js";
import { parsePrometheusText } from "./support/prometheus-text.js";
import { waitUntil } from "./support/wait-until.js";

const ROOT = new URL("..", import.meta.url).pathname;
const OBJECTS = 20;
/** Plans delivered at most, one after another, until the worker without the watch has run some. */
const MAX_PLANS = 12;

describe("plans run on the worker holding their watch cache", () => {
  let dir: string;
  let kubeconfig: string;
  let client: KubeClient;
  let h: FerryHarness;
  const workers: FerryProcess[] = [];
  let repo: TestRepo;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "ferry-plan-route-"));
    kubeconfig = execFileSync(join(ROOT, "scripts/control-plane"), ["up", join(dir, "cp"), "--no-controllers"], {
      encoding: "utf8",
    }).trim();
    execFileSync(process.execPath, [join(ROOT, "bin/ferry.js"), "setup-cluster", "--kubeconfig", kubeconfig]);
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    client = await KubeClient.fromKubeConfig(kc);
    h = await FerryHarness.start("github", {}, { kubeconfig, roles: { web: true, worker: false } });
    for (let i = 0; i < 2; i++) workers.push(await FerryProcess.start(h, "worker"));
    repo = await h.createRepo({
      environment: { name: "watched", wait: false, reconcile: { interval: "1h", watch: true } },
    });
    const merge = await h.merge(repo, { "deploy/objects.yaml": objects(() => "blue") });
    await h.deliver(merge.delivery);
    assert.equal((await h.finalStatus(repo, merge.sha, "ferry/deploy/watched")).at(-1)?.state, "success");
  });
  after(async () => {
    for (const w of workers) await w.stop("SIGKILL");
    await h?.close();
    client?.close();
    execFileSync(join(ROOT, "scripts/control-plane"), ["down", join(dir, "cp")]);
    await rm(dir, { recursive: true, force: true });
  });

  const objects = (color: (n: number) => string) =>
    Array.from({ length: OBJECTS }, (_, n) => configMapYaml(`cm-${n}`, { color: color(n) })).join("---\n");

  /** LISTs of ConfigMaps the API server has answered so far. */
  const configMapLists = async () =>
    parsePrometheusText(String(await client.call("GET", "/metrics")))
      .filter(
        (s) => s.name === "apiserver_request_total" && s.labels.verb === "LIST" && s.labels.resource === "configmaps",
      )
      .reduce((sum, s) => sum + s.value, 0);

  /** A metric of one worker process (summed over its series matching `labels`). */
  const metric = async (w: FerryProcess, name: string, labels: Record<string, string> = {}) =>
    parsePrometheusText(await (await fetch(`${w.url}/metrics`)).text())
      .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      .reduce((sum, s) => sum + s.value, 0);
  const planJobs = (w: FerryProcess) => metric(w, "ferry_jobs_total", { queue: "ferry-plan", result: "completed" });

  /** Opens a change, delivers it and waits for its plan; asserts the result was reported once. */
  let changes = 0;
  const planChange = async () => {
    const n = ++changes;
    const pr = await h.openPullRequest(repo, {
      "deploy/objects.yaml": objects((i) => (i === n % OBJECTS ? "green" : "blue")),
    });
    await h.deliver(pr.delivery);
    const results = await h.finalStatus(repo, pr.headSha, "ferry/plan/watched", 90_000);
    const final = results.filter((s) => s.state === "success" || s.state === "failure");
    assert.deepEqual(
      final.map((s) => s.state),
      ["success"],
      `one result for the plan of change ${n}: ${JSON.stringify(results)}`,
    );
  };

  test("every plan reads the cache, whichever worker took it; the holder killed, plans still complete by LIST", async (t) => {
    // One of the two holds the namespace's watch, its cache filled.
    let holder: FerryProcess | undefined;
    await waitUntil(
      "no worker's watch cache held the environment's objects",
      async () => {
        for (const w of workers)
          if ((await metric(w, "ferry_watch_cache_objects")) >= OBJECTS && (await metric(w, "ferry_watches")) === 1)
            holder = w;
        return holder !== undefined;
      },
      60_000,
    );
    assert.ok(holder);
    const other = workers.find((w) => w !== holder) as FerryProcess;
    assert.equal(await metric(other, "ferry_watches"), 0, "the other worker holds nothing");

    // A watch started from a fresh list queues a reconcile of its environments (run 2 s later, on
    // either worker; off the holder it LISTs) before its cache fills: the count is taken once no
    // reconcile is queued and one has run.
    const reconciles = async () =>
      (await metric(workers[0] as FerryProcess, "ferry_jobs_total", {
        queue: "ferry-reconcile",
        result: "completed",
      })) +
      (await metric(workers[1] as FerryProcess, "ferry_jobs_total", { queue: "ferry-reconcile", result: "completed" }));
    /** Reconcile jobs in `states` now, as the web pod reads them from Redis. */
    const queued = async (states: string[]) =>
      parsePrometheusText(await (await fetch(`${h.url}/metrics`)).text())
        .filter((s) => s.name === "ferry_queue_jobs" && s.labels.queue === "ferry-reconcile")
        .filter((s) => states.includes(s.labels.state ?? ""))
        .reduce((sum, s) => sum + s.value, 0);
    // The scheduler keeps its next run delayed (in an hour); the watch's reconcile is delayed 2 s beside it.
    await waitUntil(
      "the watch's first reconcile never finished",
      async () =>
        (await reconciles()) >= 1 &&
        (await queued(["waiting", "active", "prioritized"])) === 0 &&
        (await queued(["delayed"])) <= 1,
      60_000,
    );
    const lists = await configMapLists();
    // Plans one after another until the worker without the watch has taken at least two of them.
    const settled = () =>
      waitUntil(
        "the plan jobs' counts never reached the plans made",
        async () => (await planJobs(holder as FerryProcess)) + (await planJobs(other)) === changes,
        10_000,
      );
    for (let i = 0; i < MAX_PLANS && (await planJobs(other)) < 2; i++) {
      await planChange();
      await settled();
    }
    const handedJobs = await planJobs(other);
    assert.ok(handedJobs >= 2, `the worker without the watch took ${handedJobs} of ${changes} plan jobs`);
    assert.equal((await configMapLists()) - lists, 0, `${changes} plans made no LIST of ConfigMaps`);
    assert.equal(await metric(other, "ferry_plans_handed_over_total"), handedJobs, "each of its plans was handed over");
    assert.equal(await metric(holder, "ferry_plans_handed_over_total"), 0, "the holder planned its own jobs");
    for (const w of workers) assert.equal(await metric(w, "ferry_plan_handover_fallbacks_total"), 0);

    // The holder dies; its lease still names it, so the other worker hands the next plan to it, and takes it back.
    await holder.stop("SIGKILL");
    const before = await configMapLists();
    await planChange();
    assert.ok((await configMapLists()) - before > 0, "the plan read the API server");
    assert.equal(await metric(other, "ferry_plan_handover_fallbacks_total", { reason: "not_taken" }), 1);
    t.diagnostic(`${changes - 1} plans with both workers up: ${handedJobs} taken by the worker without the watch`);
  });
});
