import type { KubeClient } from "./kube-client.js";
import type { ObjectRef } from "./object-ref.js";

/** A Warning event about an object or one of the pods it runs, in words to show. */
export interface WarningEvent {
  /** `Pod shop/web-6d4-x2k`: what the event is about. */
  object: string;
  /** The event's reason, e.g. `FailedScheduling`. */
  reason: string;
  /** What the event says. */
  message: string;
}

/** Kinds whose trouble shows in events on the ReplicaSets and Pods they own (named `<name>-…`). */
const WORKLOADS = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"]);

interface EventItem {
  involvedObject?: { kind?: string; name?: string; namespace?: string };
  reason?: string;
  message?: string;
  lastTimestamp?: string;
  eventTime?: string;
  metadata?: { creationTimestamp?: string };
}

/**
 * The most recent distinct Warning events about `ref` and, for workloads, about the ReplicaSets
 * and Pods it owns: what a person reads when a rollout stalls (`FailedScheduling`, `FailedCreate`,
 * `BackOff`). One LIST of the namespace's Warning events; errors give no events, not a failure.
 */
export async function recentWarnings(client: KubeClient, ref: ObjectRef, limit = 3): Promise<WarningEvent[]> {
  const namespace = ref.namespace ?? "default";
  const res = await client
    .request(
      "GET",
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/events?fieldSelector=${encodeURIComponent("type=Warning")}&limit=500`,
    )
    .catch(() => undefined);
  if (res?.status !== 200) return [];
  const items = ((res.body as { items?: EventItem[] }).items ?? []).filter((e) => {
    const kind = e.involvedObject?.kind;
    const name = e.involvedObject?.name ?? "";
    if (kind === ref.kind && name === ref.name) return true;
    return WORKLOADS.has(ref.kind) && (kind === "Pod" || kind === "ReplicaSet") && name.startsWith(`${ref.name}-`);
  });
  const time = (e: EventItem) => e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? "";
  items.sort((a, b) => time(b).localeCompare(time(a)));
  const seen = new Set<string>();
  const events: WarningEvent[] = [];
  for (const e of items) {
    const reason = e.reason ?? "Warning";
    const message = (e.message ?? "").trim();
    if (seen.has(`${reason}\n${message}`)) continue;
    seen.add(`${reason}\n${message}`);
    events.push({
      object: `${e.involvedObject?.kind ?? "?"} ${namespace}/${e.involvedObject?.name ?? "?"}`,
      reason,
      message,
    });
    if (events.length === limit) break;
  }
  return events;
}
