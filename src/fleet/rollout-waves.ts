import { durationMs } from "../config/duration.js";
import type { ClusterSelector } from "../config/cluster-selector.js";
import type { DeclaredEnvironment, Environment } from "../config/ferry-config.js";
import type { Wave } from "../config/rollout.js";
import type { ClusterConfig, ServerConfig } from "../config/server-config.js";
import type { WavePlan } from "../domain/rollout.js";
import { FerryError, permanent } from "../errors.js";
import { clusterMatcher } from "./cluster-matcher.js";
import { environmentFor, environmentResolver } from "./environment-for-cluster.js";
import { listSome } from "./list-some.js";
import { describeSelector, selectClusters } from "./select-clusters.js";

/** Most clusters an error lists by name. */
const MAX_LISTED = 10;

/** How one environment is released: its waves, and the environment resolved for each of its clusters. */
export interface RolloutWaves {
  /** The waves, in the order they run. */
  waves: WavePlan[];
  /** Each cluster's name → the environment resolved for it (templates filled in). */
  targets: Map<string, Environment>;
}

/**
 * The waves a release of `env` goes in. `cluster: X` is one wave of X; `clusters:` without `rollout:`
 * is one wave `all` of every selected cluster; with `rollout:`, each selected cluster goes to the
 * first wave selecting it, and a last wave without `clusters:` takes the rest. Throws one permanent
 * FerryError listing every problem, a line each: a selector selecting nothing, a wave with no
 * cluster, clusters left in no wave, unregistered clusters, templates a cluster cannot fill.
 * Linear in clusters × waves.
 */
export function rolloutWaves(env: DeclaredEnvironment, config: ServerConfig): RolloutWaves {
  if (env.clusters === undefined) return oneCluster(env, config);
  const problems: string[] = [];
  const selected = selectedClusters(env, env.clusters, config, problems);
  if (selected.length === 0) throw permanent(problems.join("\n"));
  const declared: Wave[] = env.rollout?.waves ?? [{ name: "all" }];
  const members = assignWaves(env, declared, selected, config, problems);
  const targets = resolveTargets(env, selected, problems);
  if (problems.length > 0) throw permanent(problems.join("\n"));
  // A last wave taking the rest finds nothing when earlier waves took everything: it is left out.
  const waves = declared
    .map((wave, index) => plan(wave, index, members[index] ?? []))
    .filter((wave) => wave.clusters.length > 0);
  const last = waves.at(-1);
  if (last !== undefined) {
    delete last.pauseMs;
    last.approval = false;
  }
  return { waves, targets };
}

/** The one wave of an environment of one cluster (`cluster:`). */
function oneCluster(env: DeclaredEnvironment, config: ServerConfig): RolloutWaves {
  const cluster = config.clusters.find((c) => c.name === env.cluster);
  if (cluster === undefined) {
    throw permanent(
      `environment ${env.name}: ${env.cluster === undefined ? "names no cluster" : `cluster "${env.cluster}" is not registered with Ferry`}`,
    );
  }
  return {
    waves: [
      { index: 0, name: cluster.name, clusters: [cluster.name], maxParallel: 1, failureBudget: 0, approval: false },
    ],
    targets: new Map([[cluster.name, environmentFor(env, cluster)]]),
  };
}

/** The registered clusters `selector` selects; names it lists that are not registered, or selecting none, go to `problems`. */
function selectedClusters(
  env: DeclaredEnvironment,
  selector: ClusterSelector,
  config: ServerConfig,
  problems: string[],
): ClusterConfig[] {
  const registered = new Set(config.clusters.map((c) => c.name));
  for (const name of selector.names ?? []) {
    if (!registered.has(name)) problems.push(`environment ${env.name}: cluster "${name}" is not registered with Ferry`);
  }
  const selected = selectClusters(selector, config.clusters);
  if (selected.length === 0)
    problems.push(`environment ${env.name}: clusters: ${describeSelector(selector)} selects no registered cluster`);
  return selected;
}

/**
 * The members of each wave: each of `selected` goes to the first wave selecting it, a wave without
 * `clusters:` takes the rest. A wave selecting none of them, a name a wave lists that is not one of
 * them, and clusters left in no wave go to `problems`.
 */
function assignWaves(
  env: DeclaredEnvironment,
  waves: Wave[],
  selected: ClusterConfig[],
  config: ServerConfig,
  problems: string[],
): ClusterConfig[][] {
  const say = (text: string) => problems.push(`environment ${env.name}: ${text}`);
  const described = describeSelector(env.clusters ?? {});
  const registered = new Set(config.clusters.map((c) => c.name));
  const chosen = new Set(selected.map((c) => c.name));
  const taken = new Set<string>();
  const members = waves.map((wave) => {
    let wanted: ClusterConfig[];
    if (wave.clusters === undefined) {
      wanted = selected.filter((c) => !taken.has(c.name));
    } else {
      const matches = clusterMatcher(wave.clusters);
      const strangers = (wave.clusters.names ?? []).filter((name) => !chosen.has(name));
      for (const name of strangers) {
        say(
          `wave ${wave.name}: cluster "${name}" ${registered.has(name) ? `is not one of the environment's clusters (${described})` : "is not registered with Ferry"}`,
        );
      }
      wanted = selected.filter((c) => !taken.has(c.name) && matches(c));
      if (wanted.length === 0 && strangers.length === 0) {
        const why = selected.some(matches)
          ? "earlier waves took every cluster it selects"
          : `none of the environment's clusters (${described}) match`;
        say(`wave ${wave.name} (${describeSelector(wave.clusters)}) selects no cluster: ${why}`);
      }
    }
    for (const c of wanted) taken.add(c.name);
    return wanted;
  });
  const left = selected.filter((c) => !taken.has(c.name)).map((c) => c.name);
  if (left.length > 0) {
    const count = left.length === 1 ? "1 cluster is" : `${left.length} clusters are`;
    say(`${count} in no wave: ${listSome(left, MAX_LISTED)}; add a last wave without clusters: to release the rest`);
  }
  return members;
}

/** `env` resolved for each of `clusters`; what cannot be resolved goes to `problems`, the first few clusters in full. */
function resolveTargets(
  env: DeclaredEnvironment,
  clusters: ClusterConfig[],
  problems: string[],
): Map<string, Environment> {
  const targets = new Map<string, Environment>();
  let resolve: (cluster: ClusterConfig) => Environment;
  try {
    resolve = environmentResolver(env);
  } catch (error) {
    if (!(error instanceof FerryError)) throw error;
    problems.push(error.message);
    return targets;
  }
  let failed = 0;
  for (const cluster of clusters) {
    try {
      targets.set(cluster.name, resolve(cluster));
    } catch (error) {
      if (!(error instanceof FerryError)) throw error;
      if (failed < MAX_LISTED) problems.push(error.message);
      failed++;
    }
  }
  if (failed > MAX_LISTED)
    problems.push(
      `environment ${env.name}: and ${failed - MAX_LISTED} more clusters the templates cannot be filled in for`,
    );
  return targets;
}

/** A declared wave with its members, its counts resolved against its size. */
function plan(wave: Wave, index: number, members: ClusterConfig[]): WavePlan {
  const size = members.length;
  const maxParallel = wave.maxParallel === undefined ? size : share(wave.maxParallel, size, Math.ceil);
  const failureBudget = wave.failureBudget === undefined ? 0 : share(wave.failureBudget, size, Math.floor);
  return {
    index,
    name: wave.name,
    clusters: members.map((c) => c.name),
    maxParallel: Math.max(1, Math.min(maxParallel, size)),
    failureBudget: Math.min(failureBudget, size),
    ...(wave.pause === undefined ? {} : { pauseMs: durationMs(wave.pause) }),
    approval: wave.approval === true,
  };
}

/** A count given as a number or as a percentage (`25%`) of `size`, rounded with `round`. */
function share(spec: number | string, size: number, round: (n: number) => number): number {
  if (typeof spec === "number") return spec;
  return round((Number(spec.slice(0, -1)) * size) / 100);
}
