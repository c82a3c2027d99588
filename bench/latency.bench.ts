/**
 * latency: how long a merge takes to reach the cluster and the forge, through Ferry's whole path
 * (webhook intake, deploy job, rollout, release, reporter) with each forge's simulator, a 20-object
 * environment (`wait: false`), GitHub's writes spaced a second apart as in production. Medians of
 * MERGES merges per forge.
 *
 * - merge-to-applied-<forge>: webhook sent → the last of the 20 objects applied, as a watch of their
 *   namespace sees the API server's events (target p50 ≤ 500 ms).
 * - merge-to-final-status-<forge>: webhook sent → the final `ferry/deploy/<env>` status on the forge
 *   (targets p50 ≤ 600 ms on GitLab, ≤ 1.5 s on GitHub).
 * Baseline of every case: the same merge's objects applied by a bare loop of server-side applies
 * that a bare webhook receiver starts, same run (webhook sent → last object applied).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { parse } from "yaml";
import { KubeClient } from "../src/kube/kube-client.js";
import { createLogger } from "../src/logger.js";
import { ResourceWatch } from "../src/watch/resource-watch.js";
import { configMapYaml, FerryHarness, FORGES, type TestRepo } from "../test/support/ferry-harness.js";
import { waitUntil } from "../test/support/wait-until.js";
import { benchCase, type BenchCase, type BenchContext } from "./bench-case.js";

const MERGES = 20;
const OBJECTS = 20;
const CONTEXT = "ferry/deploy/staging";

/** The environment's 20 ConfigMaps at version `v`. */
const files = (v: string): Record<string, string> =>
  Object.fromEntries(
    Array.from({ length: OBJECTS }, (_, i) => [`deploy/cm-${i}.yaml`, configMapYaml(`cm-${i}`, { v })]),
  );

/** When each ConfigMap of a namespace was seen at each version, by a watch of the namespace. */
class AppliedTimes {
  private readonly seen = new Map<string, number>();
  private readonly watch: ResourceWatch;

  constructor(client: KubeClient, namespace: string) {
    this.watch = new ResourceWatch({
      client,
      path: `/api/v1/namespaces/${namespace}/configmaps`,
      onChange: (e) => {
        const v = (e.object as { data?: { v?: string } }).data?.v;
        const key = `${e.object.metadata?.name ?? ""}@${v ?? ""}`;
        if (!this.seen.has(key)) this.seen.set(key, performance.now());
      },
      log: createLogger({ level: "silent" }),
    });
    this.watch.start();
  }

  /** When the last of the 20 objects reached version `v`, once all did. */
  async allAt(v: string): Promise<number> {
    const times = () => Array.from({ length: OBJECTS }, (_, i) => this.seen.get(`cm-${i}@${v}`));
    await waitUntil(`not every object reached ${v}`, () => times().every((t) => t !== undefined), 60_000, 2);
    return Math.max(...(times() as number[]));
  }

  stop(): Promise<void> {
    return this.watch.stop();
  }
}

/** Ferry on one forge: MERGES merges, each timed to its objects applied and to its final status. */
async function throughFerry(forge: (typeof FORGES)[number], context: BenchContext) {
  const h = await FerryHarness.start(
    forge,
    {},
    { kubeconfig: context.kubeconfig, logLevel: "warn", githubWriteSpacing: true },
  );
  const client = await KubeClient.fromKubeConfig(h.kc);
  try {
    const repo: TestRepo = await h.createRepo({ environment: { wait: false } });
    const first = await h.merge(repo, files("0"));
    await h.deliver(first.delivery);
    await h.finalStatus(repo, first.sha, CONTEXT, 60_000);
    const applied = new AppliedTimes(client, repo.namespace);
    const toApplied: number[] = [];
    const toFinal: number[] = [];
    try {
      for (let i = 1; i <= MERGES; i++) {
        const merge = await h.merge(repo, files(String(i)));
        // The previous merge has said everything (its deployment record's final state, after the
        // final status and the comment), and a second more: each merge is timed on its own, not
        // behind another's writes, which GitHub's spacing makes take seconds.
        await waitUntil(
          "the previous merge's deployment never ended",
          () =>
            h.forge
              .deployments(repo.fullName)
              .every((d) => /success|failure|inactive|failed|canceled/.test(d.states.at(-1) ?? "")),
          60_000,
          20,
        );
        await new Promise((r) => setTimeout(r, 1_000));
        const sent = performance.now();
        await h.deliver(merge.delivery);
        let final = 0;
        await waitUntil(
          `merge ${i} never reached a final status`,
          () => {
            const last = h
              .statuses(repo, merge.sha)
              .filter((s) => s.context === CONTEXT)
              .at(-1);
            if (last?.state === "success" || last?.state === "failure") final ||= performance.now();
            return final > 0;
          },
          60_000,
          2,
        );
        toApplied.push((await applied.allAt(String(i))) - sent);
        toFinal.push(final - sent);
      }
    } finally {
      await applied.stop();
    }
    console.log(
      `  ${forge}: applied ${toApplied.map(Math.round).join(", ")} ms; final status ${toFinal.map(Math.round).join(", ")} ms`,
    );
    return { toApplied, toFinal };
  } finally {
    client.close();
    await h.close();
  }
}

/** The baseline: a bare webhook receiver whose handler server-side applies the merge's 20 objects in a loop. */
async function bareLoop(context: BenchContext): Promise<number[]> {
  const kc = new (await import("@kubernetes/client-node")).KubeConfig();
  kc.loadFromFile(context.kubeconfig);
  const client = await KubeClient.fromKubeConfig(kc);
  const namespace = `bench-latency-bare-${Date.now()}`;
  await client.call("POST", "/api/v1/namespaces", {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: namespace },
  });
  const loops: Array<Promise<void>> = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      res.writeHead(202).end();
      const v = (JSON.parse(body) as { v: string }).v;
      const loop = (async () => {
        for (const text of Object.values(files(v))) {
          const object = parse(text) as { metadata: { name: string } };
          await client.call(
            "PATCH",
            `/api/v1/namespaces/${namespace}/configmaps/${object.metadata.name}?fieldManager=bare&force=true`,
            object,
            "application/apply-patch+yaml",
          );
        }
      })();
      loops.push(loop);
    });
  });
  server.listen(0);
  await new Promise((r) => server.once("listening", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const applied = new AppliedTimes(client, namespace);
  const times: number[] = [];
  try {
    for (let i = 1; i <= MERGES; i++) {
      const sent = performance.now();
      await fetch(url, { method: "POST", body: JSON.stringify({ v: String(i) }) });
      times.push((await applied.allAt(String(i))) - sent);
    }
  } finally {
    await applied.stop();
    server.close();
    await Promise.allSettled(loops);
    client.close();
  }
  console.log(`  bare loop: applied ${times.map(Math.round).join(", ")} ms`);
  return times;
}

/** Runs both forges and the bare loop. */
export async function run(context: BenchContext): Promise<BenchCase[]> {
  const baseline = await bareLoop(context);
  const cases: BenchCase[] = [];
  const bare = "a bare webhook receiver's loop of server-side applies";
  for (const forge of FORGES) {
    const { toApplied, toFinal } = await throughFerry(forge, context);
    cases.push(benchCase(`merge-to-applied-${forge}`, "ms", toApplied, bare, baseline));
    cases.push(benchCase(`merge-to-final-status-${forge}`, "ms", toFinal, bare, baseline));
  }
  return cases;
}
