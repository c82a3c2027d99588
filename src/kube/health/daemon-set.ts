import { current, inProgress, staleGeneration, statusNumber } from "./object-status.js";
import type { HealthCheck } from "./types.js";

/**
 * A DaemonSet is current once its controller observed the latest spec and, on every node that
 * should run it, its pod is scheduled, updated and available. A DaemonSet no node matches is current.
 * With the `OnDelete` strategy pods change only when someone deletes them, so only scheduling counts.
 */
export const daemonSetHealth: HealthCheck = {
  kind: "apps/DaemonSet",
  ready: "available",
  check(set) {
    const stale = staleGeneration(set);
    if (stale) return stale;
    const desired = statusNumber(set, "desiredNumberScheduled");
    const scheduled = statusNumber(set, "currentNumberScheduled");
    const updated = statusNumber(set, "updatedNumberScheduled");
    const available = statusNumber(set, "numberAvailable");
    if (scheduled < desired) return inProgress(`${scheduled}/${desired} pods scheduled`);
    const strategy = set.spec?.updateStrategy as { type?: string } | undefined;
    if (strategy?.type === "OnDelete")
      return current(`${scheduled}/${desired} pods scheduled (OnDelete update strategy)`);
    if (updated < desired) return inProgress(`${updated}/${desired} pods updated`);
    if (available < desired) return inProgress(`${available}/${desired} pods available`);
    return current(`${available}/${desired} pods available`);
  },
};
