import { DEFAULT_RECONCILE_INTERVAL, type Environment } from "./ferry-config.js";
import { durationMs } from "./duration.js";
import type { ServerConfig } from "./server-config.js";

/** How often an environment is reconciled, and the interval it asked for when the server's floor raised it. */
export interface ReconcileInterval {
  /** Milliseconds between two reconciles of one cluster. */
  everyMs: number;
  /** The `.ferry.yml` interval below the server's `reconcile.minInterval`, when it was raised to the floor. */
  raisedFrom?: string;
}

/**
 * The reconcile interval of `env`: its `reconcile.interval`, else the server's `defaultInterval`
 * (10m unless set), never below the server's `minInterval`. An interval under the floor is raised to
 * it rather than refused: the floor is the operator's (what their API servers bear) and may change
 * without every repository's `.ferry.yml` having to follow; the caller logs that it was raised.
 */
export function reconcileInterval(
  env: Pick<Environment, "reconcile">,
  server: Pick<ServerConfig, "reconcile">,
): ReconcileInterval {
  const asked = env.reconcile?.interval ?? server.reconcile?.defaultInterval ?? DEFAULT_RECONCILE_INTERVAL;
  const floor = durationMs(server.reconcile?.minInterval ?? "1m");
  const everyMs = durationMs(asked);
  return everyMs < floor ? { everyMs: floor, raisedFrom: asked } : { everyMs };
}
