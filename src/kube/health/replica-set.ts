import {
  condition,
  conditionText,
  current,
  failed,
  inProgress,
  specNumber,
  staleGeneration,
  statusNumber,
} from "./object-status.js";
import type { HealthCheck } from "./types.js";

/**
 * A ReplicaSet is current once its controller observed the latest spec and exactly the wanted
 * number of replicas is available. It fails when `ReplicaFailure` is true: the controller cannot
 * create pods (a quota, a refused pod), which no waiting fixes.
 */
export const replicaSetHealth: HealthCheck = {
  kind: "apps/ReplicaSet",
  ready: "available",
  check(set) {
    const stale = staleGeneration(set);
    if (stale) return stale;
    const failure = condition(set, "ReplicaFailure");
    if (failure?.status === "True") return failed(conditionText(failure), failure.reason ?? "ReplicaFailure");
    const want = specNumber(set, "replicas", 1);
    const replicas = statusNumber(set, "replicas");
    const available = statusNumber(set, "availableReplicas");
    if (replicas < want) return inProgress(`${replicas}/${want} replicas created`);
    if (available < want) return inProgress(`${available}/${want} replicas available`);
    if (replicas > want) return inProgress(`${replicas - want} extra replicas pending termination`);
    return current(`${available}/${want} replicas available`);
  },
};
