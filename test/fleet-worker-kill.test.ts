/**
 * A fleet rollout whose worker process is SIGKILLed twice: while the rollout waits for approval
 * between waves, and in the middle of a wave. New worker processes carry it on from Redis: the
 * rollout finishes, and every cluster was released exactly once (one release in its inventory).
 */
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { after, before, describe, test } from "node:test";
import { CoreV1Api } from "@kubernetes/client-node";
import { configMapYaml, FerryHarness } from "./support/ferry-harness.js";
import { FerryProcess } from "./support/ferry-process.js";
import { testFleetContexts, testKubeConfigFor, testKubeConfigPath } from "./support/kube.js";
import { waitUntil } from "./support/wait-until.js";

const CLUSTERS = ["fleet-0", "fleet-1", "fleet-2", "fleet-3", "fleet-4", "fleet-5"];
const CONTEXT = "ferry/deploy/production";
const WAIT_MS = 60_000;
/** How long a dead worker's jobs and locks stay claimed, for this test. */
const CLAIM_MS = 2000;

describe("a fleet rollout survives its worker being killed between waves and mid-wave", () => {
  let h: FerryHarness;
  let contexts: string[];
  const workers: FerryProcess[] = [];
  const startWorker = async (): Promise<FerryProcess> => {
    const worker = await FerryProcess.start(h, "worker", { FERRY_CLAIM_MS: String(CLAIM_MS) }, WAIT_MS);
    workers.push(worker);
    return worker;
  };
  const kill = (w: FerryProcess) => w.stop("SIGKILL");

  before(async () => {
    contexts = testFleetContexts();
    h = await FerryHarness.start(
      "github",
      {},
      {
        roles: { web: true, worker: false },
        serverConfig: {
          clusters: CLUSTERS.map((name, i) => ({
            name,
            context: contexts[i],
            kubeconfig: testKubeConfigPath(),
            labels: { ring: i === 0 ? "canary" : "main" },
          })),
          policy: [{ repositories: ["acme/*"], clusters: ["*"], namespaces: ["e2e-*"], clusterScopedKinds: [] }],
        },
      },
    );
  });
  after(async () => {
    for (const w of workers) await kill(w);
    await h?.close();
  });

  test("killed while awaiting approval, then while the second wave releases: each cluster released once", async () => {
    const repo = await h.createRepo({
      environments: (namespace) => [
        {
          name: "production",
          branch: "main",
          path: "deploy",
          clusters: { matchExpressions: [{ key: "ring", operator: "Exists" }] },
          namespace,
          wait: false,
          rollout: {
            waves: [
              { name: "canary", clusters: { matchLabels: { ring: "canary" } }, approval: true },
              { name: "main", maxParallel: 1 },
            ],
          },
        },
      ],
    });
    const files: Record<string, string> = {};
    for (let i = 0; i < 40; i++)
      files[`deploy/cm-${i}.yaml`] = configMapYaml(`cm-${i}`, { v: "1", pad: "x".repeat(200) });
    const merge = await h.merge(repo, files);
    let worker = await startWorker();
    await h.deliver(merge.delivery);
    const statuses = () => h.statuses(repo, merge.sha).filter((s) => s.context === CONTEXT);
    await waitUntil(
      () => `never awaited approval: ${JSON.stringify(statuses())}\n${worker.output()}`,
      () => statuses().some((s) => /\/ferry continue/.test(s.description)),
      WAIT_MS,
      50,
    );
    await kill(worker);

    worker = await startWorker();
    h.forge.setAccess(repo.fullName, "lead", "write");
    await h.deliver(h.comment(repo, { number: merge.number } as never, "lead", "/ferry continue"));
    // The second wave releases one cluster at a time: kill once the first of them is through.
    // The rollout page says how far the wave is, without waiting for a throttled status.
    const page = new URL(statuses().find((s) => s.targetUrl)?.targetUrl ?? "").pathname;
    const releasedInWave2 = async () => {
      const view = (await (await h.page(`${page}.json`)).json()) as {
        clusters: Array<{ wave: number; state: string }>;
      };
      return view.clusters.filter((c) => c.wave === 1 && c.state === "released").length;
    };
    await waitUntil(
      () => `the second wave never moved: ${JSON.stringify(statuses())}\n${worker.output()}`,
      async () => (await releasedInWave2()) >= 1,
      WAIT_MS,
      20,
    );
    await kill(worker);
    worker = await startWorker();

    const taker = worker;
    const final = await h.finalStatus(repo, merge.sha, CONTEXT, WAIT_MS).catch((error: Error) => {
      throw new Error(`${error.message}\nthe worker that took over logged:\n${taker.output().slice(-20_000)}`);
    });
    assert.equal(final.at(-1)?.state, "success", JSON.stringify(final));
    assert.match(final.at(-1)?.description ?? "", /6\/6 clusters in 2 waves/);
    assert.equal(final.filter((s) => s.state === "success" || s.state === "failure").length, 1);
    for (const [i, cluster] of CLUSTERS.entries()) {
      const core = testKubeConfigFor(contexts[i] ?? "").makeApiClient(CoreV1Api);
      const list = await core.listNamespacedConfigMap({ namespace: repo.namespace });
      assert.equal(list.items.filter((cm) => cm.metadata?.name?.startsWith("cm-")).length, 40, `objects on ${cluster}`);
      const inventory = list.items.find((cm) => cm.metadata?.labels?.["ferry.dev/role"] === "inventory");
      const data = inventory?.binaryData?.["inventory.json.gz"];
      assert.ok(data, `no inventory on ${cluster}`);
      const releases = (
        JSON.parse(gunzipSync(Buffer.from(data, "base64")).toString("utf8")) as {
          releases: Array<{ sha: string; result: string }>;
        }
      ).releases;
      assert.deepEqual(
        releases.map((r) => [r.sha, r.result]),
        [[merge.sha, "success"]],
        `${cluster} released once`,
      );
    }
  });
});
