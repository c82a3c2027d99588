import { watched, type Environment } from "../config/ferry-config.js";
import { permanent } from "../errors.js";

/**
 * Throws when `env` asks for watches (`reconcile.watch: true`) on agent cluster `cluster`: only its
 * agent reaches its API server, and agents run no watches. Releases and plans of such an environment
 * refuse it alike, so a plan says what its merge would meet.
 */
export function refuseWatchOnAgent(env: Environment, cluster: string): void {
  if (watched(env))
    throw permanent(
      `reconcile.watch is not available on agent cluster "${cluster}": only its agent reaches its API server, ` +
        "and agents run no watches; remove watch: true (the cluster is still reconciled every reconcile.interval)",
    );
}
