import {
  condition,
  conditionText,
  conditions,
  current,
  failed,
  inProgress,
  specNumber,
  staleGeneration,
  statusNumber,
} from "./object-status.js";
import type { Condition, HealthCheck, LiveResource } from "./types.js";

/** Where `autoscaling/v1` keeps the conditions `autoscaling/v2` has in its status. */
const V1_CONDITIONS = "autoscaling.alpha.kubernetes.io/conditions";

/**
 * Reasons of a false `AbleToScale` or `ScalingActive` that no waiting fixes: the target does not
 * exist or cannot be scaled, or its selector is missing or shared with another autoscaler.
 */
const BROKEN = new Set([
  "FailedGetScale",
  "FailedUpdateScale",
  "InvalidSelector",
  "AmbiguousSelector",
  "InvalidMetricSourceType",
]);

/**
 * A HorizontalPodAutoscaler is current once its controller can scale the target (`AbleToScale`)
 * and computes replica counts from its metrics (`ScalingActive`), or has disabled scaling because
 * the target is scaled to zero. It fails at once when the target cannot be read or scaled
 * (`FailedGetScale`, `FailedUpdateScale`) or its selector is invalid, as gitops-engine calls such an
 * autoscaler Degraded. Unlike gitops-engine, metrics that cannot be read yet
 * (`FailedGetResourceMetric`) keep it in progress rather than failing it: the metrics of pods a
 * release just started take a minute to appear, and the timeout decides when they never do (no
 * metrics-server, a container without a CPU request). `autoscaling/v1` objects carry the same
 * conditions in an annotation.
 */
export const horizontalPodAutoscalerHealth: HealthCheck = {
  kind: "autoscaling/HorizontalPodAutoscaler",
  ready: "active",
  check(object) {
    const stale = staleGeneration(object, false);
    if (stale) return stale;
    const hpa = withV1Conditions(object);
    const able = condition(hpa, "AbleToScale");
    const active = condition(hpa, "ScalingActive");
    for (const c of [able, active]) {
      if (c?.status === "False" && c.reason !== undefined && BROKEN.has(c.reason))
        return failed(c.message ?? conditionText(c), c.reason);
    }
    if (!able && !active) return inProgress("waiting for the autoscaler's first reading");
    if (able?.status !== "True")
      return inProgress(
        able
          ? `AbleToScale is ${able.status}: ${conditionText(able)}`
          : "waiting for the autoscaler to read its target's scale",
        able?.reason,
      );
    if (active?.status === "False" && active.reason === "ScalingDisabled")
      return current(`scaling disabled: the target has ${statusNumber(hpa, "currentReplicas")} replicas`);
    if (active?.status !== "True")
      return inProgress(
        active
          ? `ScalingActive is ${active.status}: ${conditionText(active)}`
          : "waiting for the autoscaler to read its metrics",
        active?.reason,
      );
    const replicas = statusNumber(hpa, "currentReplicas");
    return current(
      `scaling active: ${replicas} ${replicas === 1 ? "replica" : "replicas"} (${specNumber(hpa, "minReplicas", 1)}–${specNumber(hpa, "maxReplicas", 1)})`,
    );
  },
};

/** The object with the v1 annotation's conditions in its status, when it has no conditions of its own. */
function withV1Conditions(hpa: LiveResource): LiveResource {
  const annotation = hpa.metadata?.annotations?.[V1_CONDITIONS];
  if (conditions(hpa).length > 0 || annotation === undefined) return hpa;
  let parsed: unknown;
  try {
    parsed = JSON.parse(annotation);
  } catch {
    return hpa;
  }
  return Array.isArray(parsed) ? { ...hpa, status: { ...hpa.status, conditions: parsed as Condition[] } } : hpa;
}
