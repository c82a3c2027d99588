/**
 * plan: Ferry planning 1,000 ConfigMaps, a third of them changed since the last release, against
 * `kubectl diff --server-side` of the same files in the same run (kubectl built from the same Go
 * modules as the control plane). Case plan-1000; target ≤ 0.5× kubectl.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { stringify } from "yaml";
import type { Environment } from "../src/config/ferry-config.js";
import { KubeClient } from "../src/kube/kube-client.js";
import type { Grant } from "../src/policy/policy.js";
import { planEnvironment } from "../src/release/plan-environment.js";
import { releaseEnvironment } from "../src/release/release-session.js";
import { PlainRenderer } from "../src/render/plain-renderer.js";
import { benchCase, type BenchCase, type BenchContext } from "./bench-case.js";

const OBJECTS = 1000;
const RUNS = 3;

async function writeManifests(dir: string, changedEvery: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let file = 0; file < 10; file++) {
    const docs = Array.from({ length: OBJECTS / 10 }, (_, i) => {
      const n = file * (OBJECTS / 10) + i;
      const changed = changedEvery > 0 && n % changedEvery === 0;
      return stringify({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: `cm-${n}`, labels: { app: "bench" } },
        data: { index: String(n), color: changed ? "green" : "blue", payload: "x".repeat(200) },
      });
    });
    await writeFile(join(dir, `objects-${file}.yaml`), docs.join("---\n"));
  }
}

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

/** Measures plan-1000, RUNS times, each against freshly released namespaces. */
export async function run(context: BenchContext): Promise<BenchCase[]> {
  const base = join(context.workDir, "plan", "base");
  const changed = join(context.workDir, "plan", "changed");
  await writeManifests(join(base, "deploy"), 0);
  await writeManifests(join(changed, "deploy"), 3);
  const kc = new KubeConfig();
  kc.loadFromFile(context.kubeconfig);
  const client = await KubeClient.fromKubeConfig(kc);
  const renderer = new PlainRenderer();
  const grant: Grant = { cluster: "bench", namespaces: ["*"], clusterScopedKinds: [] };
  const env = (namespace: string): Environment => ({
    name: "bench",
    branch: "main",
    path: "deploy",
    cluster: "bench",
    namespace,
    prune: true,
  });
  const kubectl = (...args: string[]) =>
    spawnSync(context.kubectl, ["--kubeconfig", context.kubeconfig, ...args], { stdio: "ignore" });
  const ferry: number[] = [];
  const baseline: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const ns = `plan-ferry-${i}`;
      await releaseEnvironment({
        client,
        repository: "bench/plan",
        env: env(ns),
        grant,
        rendered: await renderer.render(base, { path: "deploy" }),
        sha: "base",
        actor: "bench",
      });
      const kns = `plan-kubectl-${i}`;
      execFileSync(context.kubectl, ["--kubeconfig", context.kubeconfig, "create", "namespace", kns], {
        stdio: "ignore",
      });
      kubectl("apply", "--server-side", "-n", kns, "-f", join(base, "deploy"));

      let start = process.hrtime.bigint();
      const plan = await planEnvironment({
        client,
        repository: "bench/plan",
        env: env(ns),
        grant,
        rendered: await renderer.render(changed, { path: "deploy" }),
        sha: "changed",
      });
      ferry.push(seconds(start));
      if (plan.counts.update !== Math.ceil(OBJECTS / 3))
        throw new Error(`expected ${Math.ceil(OBJECTS / 3)} updates, planned ${plan.counts.update}`);

      start = process.hrtime.bigint();
      const diff = kubectl("diff", "--server-side", "-n", kns, "-f", join(changed, "deploy"));
      baseline.push(seconds(start));
      if (diff.status !== 1) throw new Error(`kubectl diff exited ${diff.status}, expected 1 (differences found)`);
    }
  } finally {
    client.close();
  }
  const ms = (values: number[]) => values.map((v) => v * 1000);
  return [benchCase(`plan-${OBJECTS}`, "ms", ms(ferry), "kubectl diff --server-side", ms(baseline))];
}
