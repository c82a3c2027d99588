/**
 * Runs Ferry's benchmarks: `npm run bench` runs them all, `npm run bench -- apply` one. Each writes
 * bench/results/<name>.json as {"cases":[{name, value, unit, baseline, baseline_value, ratio}]}, with
 * the baseline measured in the same run; a case measured now replaces the one of its name, and cases
 * not measured this time (a part of a benchmark left out) stay as they were. Benchmarks needing Kubernetes get the run's own control
 * plane (scripts/control-plane up: ten API servers over one etcd, no controllers reacting to what
 * the benchmarks write), started here and stopped at the end; a run of benchmarks that all say
 * `export const kubernetes = false` starts none.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchCase, BenchContext } from "./bench-case.js";

/** A benchmark file: its `run`, given the control plane unless it says it needs none. */
type BenchModule =
  | { kubernetes?: true; run(context: BenchContext): Promise<BenchCase[]> }
  | { kubernetes: false; run(context: Pick<BenchContext, "workDir">): Promise<BenchCase[]> };

const root = new URL("..", import.meta.url).pathname;

/** The cases a results file holds, or none when there is no file yet. */
async function earlier(file: string): Promise<BenchCase[]> {
  const text = await readFile(file, "utf8").catch(() => undefined);
  return text === undefined ? [] : (JSON.parse(text) as { cases: BenchCase[] }).cases;
}

/** The earlier cases with each one measured now in its place (by name), then the new ones. */
function merged(before: BenchCase[], now: BenchCase[]): BenchCase[] {
  const fresh = new Map(now.map((c) => [c.name, c]));
  const kept = before.map((c) => fresh.get(c.name) ?? c);
  const names = new Set(before.map((c) => c.name));
  return [...kept, ...now.filter((c) => !names.has(c.name))];
}
const available = (await readdir(join(root, "bench")))
  .filter((f) => f.endsWith(".bench.ts"))
  .map((f) => f.replace(/\.bench\.ts$/, ""));
const wanted = process.argv.slice(2).filter((a) => a !== "--");
const unknown = wanted.filter((w) => !available.includes(w));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(", ")}; have: ${available.join(", ")}`);
  process.exit(2);
}
const names = wanted.length > 0 ? wanted : available;
const benches = await Promise.all(
  names.map(async (name) => ({ name, bench: (await import(`./${name}.bench.ts`)) as BenchModule })),
);
const state = await mkdtemp(join(tmpdir(), "ferry-bench-"));
let context: BenchContext | undefined;
try {
  if (benches.some(({ bench }) => bench.kubernetes !== false)) {
    context = startControlPlane();
    await setUpClusters(context);
  }
  await mkdir(join(root, "bench/results"), { recursive: true });
  for (const { name, bench } of benches) {
    console.log(`bench ${name}`);
    const cases = bench.kubernetes === false ? await bench.run({ workDir: state }) : await bench.run(needed(context));
    for (const c of cases)
      console.log(
        `  ${c.name}: ${c.value} ${c.unit} vs ${c.baseline} ${c.baseline_value} ${c.unit} → ratio ${c.ratio}`,
      );
    const file = join(root, "bench/results", `${name}.json`);
    await writeFile(file, `${JSON.stringify({ cases: merged(await earlier(file), cases) }, null, 2)}\n`);
  }
} finally {
  if (context) execFileSync(join(root, "scripts/control-plane"), ["down", join(state, "control-plane")]);
  await rm(state, { recursive: true, force: true });
}

/** Starts the run's control plane, in the run's directory. */
function startControlPlane(): BenchContext {
  const bin = execFileSync(join(root, "scripts/control-plane"), ["build"], { encoding: "utf8" }).trim();
  // Ten API servers over one etcd (the fleet benchmark's clusters); the others use the first.
  const CLUSTERS = 10;
  const kubeconfig = execFileSync(
    join(root, "scripts/control-plane"),
    ["up", join(state, "control-plane"), "--no-controllers", "--clusters", String(CLUSTERS)],
    { encoding: "utf8" },
  ).trim();
  const contexts = ["ferry-test", ...Array.from({ length: CLUSTERS - 1 }, (_, i) => `ferry-test-${i + 1}`)];
  return { kubeconfig, contexts, kubectl: join(bin, "kubectl"), workDir: state };
}

/** Sets every cluster up as installation does. */
async function setUpClusters({ kubeconfig, contexts }: BenchContext): Promise<void> {
  // Installation's part, once per cluster, as an operator does it: the validation namespace where
  // releases dry-run the objects of namespaces they create (they never create it themselves).
  const { setupCluster } = await import("../src/cli/setup-cluster.js");
  let said = "";
  if ((await setupCluster({ kubeconfig, context: contexts }, (text) => (said += text))) !== 0)
    throw new Error(`ferry setup-cluster failed:\n${said}`);
}

/** The control plane, started above for every benchmark that needs one. */
function needed(started: BenchContext | undefined): BenchContext {
  if (!started) throw new Error("no control plane was started");
  return started;
}
