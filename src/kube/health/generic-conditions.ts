import { condition, conditionText, current, failed, inProgress, staleGeneration } from "./object-status.js";
import type { Condition, HealthCheck, LiveResource } from "./types.js";

/** Conditions that say an object is up, in the order they are trusted. */
const READY_CONDITIONS = ["Ready", "Available"];

/**
 * Any other kind, judged by the conventions most controllers follow (kstatus's): in progress while
 * `status.observedGeneration` is behind or `Reconciling` is true; failed while `Stalled` is true;
 * then current when `Ready` (or `Available`) is true for the latest generation, in progress while it
 * is not. An object without such a status (a ConfigMap, a custom resource no controller reports on)
 * is current once applied.
 */
export const genericHealth: HealthCheck = {
  kind: "*",
  ready: "ready",
  check(object) {
    const stale = staleGeneration(object, false);
    if (stale) return stale;
    const stalled = condition(object, "Stalled");
    if (stalled?.status === "True")
      return failed(stalled.message ?? conditionText(stalled), stalled.reason ?? "Stalled");
    const reconciling = condition(object, "Reconciling");
    if (reconciling?.status === "True")
      return inProgress(`reconciling: ${conditionText(reconciling)}`, reconciling.reason);
    const ready = READY_CONDITIONS.map((type) => condition(object, type)).find((c): c is Condition => c !== undefined);
    if (!ready) return current("applied");
    if (isStale(ready, object)) return inProgress(`${ready.type} describes an older generation`);
    if (ready.status === "True") return current(ready.type === "Ready" ? "ready" : "available");
    return inProgress(`${ready.type} is ${ready.status}: ${conditionText(ready)}`, ready.reason);
  },
};

function isStale(c: Condition, object: LiveResource): boolean {
  const generation = object.metadata?.generation;
  return (
    typeof c.observedGeneration === "number" && typeof generation === "number" && c.observedGeneration < generation
  );
}
