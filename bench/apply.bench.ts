/**
 * apply: Ferry's release (render + validate + apply + inventory) of 1,000 ConfigMaps against
 * `kubectl apply --server-side` of the same files, kubectl built from the same Go modules as the
 * control plane. Cases: apply-1000-new (target ≤ 0.5× kubectl) and apply-1000-one-changed, a release
 * where 1 of the 1,000 changed, against kubectl applying the whole set (target ≤ 0.1×).
 */
import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { stringify } from "yaml";
import { KubeClient } from "../src/kube/kube-client.js";
import { releaseEnvironment } from "../src/release/release-session.js";
import { PlainRenderer } from "../src/render/plain-renderer.js";
import { benchCase, type BenchCase, type BenchContext } from "./bench-case.js";

const OBJECTS = 1000;
const RUNS = 5;

async function writeManifests(dir: string, changed: boolean): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let file = 0; file < 10; file++) {
    const docs = Array.from({ length: OBJECTS / 10 }, (_, i) => {
      const n = file * (OBJECTS / 10) + i;
      return stringify({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: `cm-${n}`, labels: { app: "bench", shard: String(file) } },
        data: { index: String(n), color: changed && n === 500 ? "green" : "blue", payload: "x".repeat(200) },
      });
    });
    await writeFile(join(dir, `objects-${file}.yaml`), docs.join("---\n"));
  }
}

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

/** Measures both cases, RUNS times each, in fresh namespaces. */
export async function run(context: BenchContext): Promise<BenchCase[]> {
  const base = join(context.workDir, "apply", "base");
  const changed = join(context.workDir, "apply", "changed");
  await writeManifests(join(base, "deploy"), false);
  await writeManifests(join(changed, "deploy"), true);
  const kc = new KubeConfig();
  kc.loadFromFile(context.kubeconfig);
  const client = await KubeClient.fromKubeConfig(kc);
  const renderer = new PlainRenderer();
  const ferryRelease = async (root: string, namespace: string, sha: string) => {
    const start = process.hrtime.bigint();
    const rendered = await renderer.render(root, { path: "deploy" });
    await releaseEnvironment({
      client,
      repository: "bench/apply",
      env: { name: "bench", branch: "main", path: "deploy", cluster: "bench", namespace, prune: true },
      grant: { cluster: "bench", namespaces: ["*"], clusterScopedKinds: [] },
      rendered,
      sha,
      actor: "bench",
    });
    return seconds(start);
  };
  const kubectl = (dir: string, namespace: string) => {
    execFileSync(context.kubectl, ["--kubeconfig", context.kubeconfig, "create", "namespace", namespace], {
      stdio: "ignore",
    });
    return kubectlApply(dir, namespace);
  };
  const kubectlApply = (dir: string, namespace: string) => {
    const start = process.hrtime.bigint();
    execFileSync(
      context.kubectl,
      [
        "--kubeconfig",
        context.kubeconfig,
        "apply",
        "--server-side",
        "--field-manager=kubectl-bench",
        "-n",
        namespace,
        "-f",
        join(dir, "deploy"),
      ],
      { stdio: "ignore" },
    );
    return seconds(start);
  };
  const ferryNew: number[] = [],
    kubectlNew: number[] = [],
    ferryOne: number[] = [],
    kubectlAll: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      // Alternate who goes first, so neither always meets a warmer server.
      if (i % 2 === 0) {
        ferryNew.push(await ferryRelease(base, `ferry-${i}`, "base"));
        kubectlNew.push(kubectl(base, `kubectl-${i}`));
      } else {
        kubectlNew.push(kubectl(base, `kubectl-${i}`));
        ferryNew.push(await ferryRelease(base, `ferry-${i}`, "base"));
      }
      ferryOne.push(await ferryRelease(changed, `ferry-${i}`, "changed"));
      kubectlAll.push(kubectlApply(changed, `kubectl-${i}`));
    }
  } finally {
    client.close();
  }
  const ms = (values: number[]) => values.map((v) => v * 1000);
  return [
    benchCase(`apply-${OBJECTS}-new`, "ms", ms(ferryNew), "kubectl apply --server-side", ms(kubectlNew)),
    benchCase(
      `apply-${OBJECTS}-one-changed`,
      "ms",
      ms(ferryOne),
      "kubectl apply --server-side (whole set)",
      ms(kubectlAll),
    ),
  ];
}
