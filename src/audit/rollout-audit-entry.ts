import type { ClusterCounts, Rollout } from "../domain/rollout.js";
import type { AuditEntry } from "./audit-record.js";
import { iso, rolloutActor } from "./release-audit-entries.js";

/**
 * The audit record of a rollout that ended: one commit to one environment across its clusters, with
 * its final state, why (halted, aborted, superseded, blocked) and how many clusters ended each way.
 */
export function rolloutAuditEntry(rollout: Rollout, counts: ClusterCounts[], change?: number): AuditEntry {
  const total = new Map<string, number>();
  for (const wave of counts)
    for (const [state, n] of Object.entries(wave)) if (n > 0) total.set(state, (total.get(state) ?? 0) + n);
  const clusters = [...total.values()].reduce((a, b) => a + b, 0);
  const tally = [...total].map(([state, n]) => `${n} ${state}`).join(", ");
  const reason = [
    rollout.reason,
    clusters > 0 ? `${clusters} cluster${clusters === 1 ? "" : "s"}: ${tally}` : undefined,
  ]
    .filter(Boolean)
    .join("; ");
  return {
    action: "rollout",
    actor: rolloutActor(rollout),
    forge: rollout.repo.forge,
    repository: rollout.repo.fullName,
    environment: rollout.environment,
    ...(change === undefined ? {} : { change }),
    sha: rollout.sha,
    rollout: rollout.id,
    queuedAt: iso(rollout.createdAt),
    finishedAt: iso(rollout.finishedAt ?? Date.now()),
    outcome: rollout.state,
    ...(reason === "" ? {} : { reason }),
  };
}
