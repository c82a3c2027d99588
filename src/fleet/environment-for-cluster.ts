import type { DeclaredEnvironment, Environment } from "../config/ferry-config.js";
import type { ClusterConfig } from "../config/server-config.js";

/** Placeholder until fleet targets land. */
export function environmentFor(env: DeclaredEnvironment, cluster: ClusterConfig): Environment {
  return { ...env, cluster: cluster.name };
}
