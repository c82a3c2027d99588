import type { ClusterOutcome } from "../domain/release.js";
import type { RolloutSummary } from "../domain/rollout.js";
import { describeRef } from "../kube/object-ref.js";
import { auditObjects } from "./audit-objects.js";
import type { AuditEntry } from "./audit-record.js";

/** Who an action of a rollout is recorded as done by: its merger or pusher, or `reconcile` for a catch-up. */
export function rolloutActor(rollout: Pick<RolloutSummary, "actor" | "trigger">): string {
  return rollout.trigger === "reconcile" ? "reconcile" : rollout.actor;
}

/** When a cluster's release was queued (its wave started it) and started (its job ran), in epoch ms. */
export interface ReleaseTimes {
  queuedAt?: number;
  startedAt: number;
  finishedAt: number;
}

/**
 * The audit records of one cluster's release: the release itself (outcome, reason, objects `+ ~ −`
 * by name) and, when an unhealthy release was rolled back, the rollback (the commit it went back to).
 */
export function releaseAuditEntries(
  rollout: RolloutSummary,
  cluster: string,
  outcome: ClusterOutcome,
  times: ReleaseTimes,
  change?: number,
): AuditEntry[] {
  const common = {
    actor: rolloutActor(rollout),
    forge: rollout.repo.forge,
    repository: rollout.repo.fullName,
    environment: rollout.environment,
    cluster,
    ...(change === undefined ? {} : { change }),
    rollout: rollout.id,
    ...(times.queuedAt === undefined ? {} : { queuedAt: iso(times.queuedAt) }),
    startedAt: iso(times.startedAt),
    finishedAt: iso(times.finishedAt),
  };
  const release: AuditEntry = {
    ...common,
    action: "release",
    sha: outcome.sha,
    outcome: outcome.kind,
    ...reasonOf(outcome),
    ...("result" in outcome && outcome.result !== undefined ? { objects: auditObjects(outcome.result) } : {}),
  };
  const rollback = outcome.kind === "failed" ? outcome.rollback : undefined;
  if (rollback === undefined) return [release];
  return [
    release,
    {
      ...common,
      action: "rollback",
      ...(rollback.sha === undefined ? {} : { sha: rollback.sha }),
      outcome: rollback.state,
      reason: [`after the failed release of ${outcome.sha}`, rollback.message].filter(Boolean).join(": "),
      ...(rollback.result === undefined ? {} : { objects: auditObjects(rollback.result) }),
    },
  ];
}

/** Why a cluster's release ended as it did, when its kind does not say it all. */
function reasonOf(outcome: ClusterOutcome): { reason?: string } {
  switch (outcome.kind) {
    case "failed":
    case "unreachable":
      return { reason: outcome.error };
    case "skipped":
      return { reason: outcome.reason };
    case "superseded":
      return { reason: `superseded by ${outcome.by}` };
    case "released":
      return outcome.suspended === undefined || outcome.suspended.length === 0
        ? {}
        : { reason: `suspended: ${outcome.suspended.map((s) => describeRef(s.ref)).join(", ")}` };
    case "already-released":
      return {};
  }
}

/** Epoch ms as ISO 8601 (UTC). */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
