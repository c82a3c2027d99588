import type { DeclaredEnvironment, Environment } from "../config/ferry-config.js";
import type { ServerConfig } from "../config/server-config.js";
import type { WavePlan } from "../domain/rollout.js";
import { permanent } from "../errors.js";

/** Placeholder until fleet targets land. */
export interface RolloutWaves {
  waves: WavePlan[];
  targets: Map<string, Environment>;
}

/** Placeholder until fleet targets land. */
export function rolloutWaves(env: DeclaredEnvironment, config: ServerConfig): RolloutWaves {
  if (!config.clusters.some((c) => c.name === env.cluster)) throw permanent(`environment ${env.name}: cluster "${env.cluster}" is not registered with Ferry`);
  return { waves: [{ index: 0, name: env.cluster, clusters: [env.cluster], maxParallel: 1, failureBudget: 0, approval: false }], targets: new Map([[env.cluster, env]]) };
}
