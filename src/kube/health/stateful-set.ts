import { current, inProgress, specNumber, staleGeneration, statusNumber } from "./object-status.js";
import type { HealthCheck } from "./types.js";

/**
 * A StatefulSet is current once its controller observed the latest spec and every replica is ready
 * at the update revision; with a partition, once the replicas above it are updated. With the
 * `OnDelete` strategy pods change only when someone deletes them, so nothing is waited for.
 */
export const statefulSetHealth: HealthCheck = {
  kind: "apps/StatefulSet",
  ready: "ready",
  check(set) {
    const stale = staleGeneration(set);
    if (stale) return stale;
    const strategy = set.spec?.updateStrategy as { type?: string; rollingUpdate?: { partition?: number } } | undefined;
    if (strategy?.type === "OnDelete") return current("OnDelete update strategy: pods change when deleted");
    const want = specNumber(set, "replicas", 1);
    const replicas = statusNumber(set, "replicas");
    const ready = statusNumber(set, "readyReplicas");
    const updated = statusNumber(set, "updatedReplicas");
    if (replicas < want) return inProgress(`${replicas}/${want} replicas created`);
    if (ready < want) return inProgress(`${ready}/${want} replicas ready`);
    const partition = strategy?.rollingUpdate?.partition ?? 0;
    if (partition > 0) {
      const expected = Math.max(want - partition, 0);
      if (updated < expected) return inProgress(`${updated}/${expected} replicas above partition ${partition} updated`);
      return current(`${ready}/${want} replicas ready, partitioned roll out done`);
    }
    if (updated < want) return inProgress(`${updated}/${want} replicas updated`);
    if (set.status?.currentRevision !== set.status?.updateRevision)
      return inProgress(`waiting for revision ${String(set.status?.updateRevision)} to become current`);
    return current(`${ready}/${want} replicas ready`);
  },
};
