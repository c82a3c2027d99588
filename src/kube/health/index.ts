import { groupOf, type ObjectRef } from "../object-ref.js";
import { customResourceDefinitionHealth } from "./custom-resource-definition.js";
import { daemonSetHealth } from "./daemon-set.js";
import { deploymentHealth } from "./deployment.js";
import { genericHealth } from "./generic-conditions.js";
import { horizontalPodAutoscalerHealth } from "./horizontal-pod-autoscaler.js";
import { ingressHealth } from "./ingress.js";
import { jobHealth } from "./job.js";
import { inProgress } from "./object-status.js";
import { persistentVolumeClaimHealth } from "./persistent-volume-claim.js";
import { podHealth } from "./pod.js";
import { replicaSetHealth } from "./replica-set.js";
import { serviceHealth } from "./service.js";
import { statefulSetHealth } from "./stateful-set.js";
import type { Health, HealthCheck, LiveResource } from "./types.js";

export type { Health, HealthCheck, HealthStatus, LiveResource } from "./types.js";

/** The kinds with a health check of their own, by `group/kind`. */
const CHECKS = new Map<string, HealthCheck>(
  [
    deploymentHealth,
    statefulSetHealth,
    daemonSetHealth,
    replicaSetHealth,
    podHealth,
    jobHealth,
    persistentVolumeClaimHealth,
    serviceHealth,
    ingressHealth,
    customResourceDefinitionHealth,
    horizontalPodAutoscalerHealth,
  ].map((c) => [c.kind, c]),
);

/** Kinds that have no status to wait for: current once applied, so never read back. */
const STATUSLESS = new Set([
  "/ConfigMap",
  "/Secret",
  "/ServiceAccount",
  "/Endpoints",
  "/LimitRange",
  "/PodTemplate",
  "/Namespace",
  "rbac.authorization.k8s.io/Role",
  "rbac.authorization.k8s.io/RoleBinding",
  "rbac.authorization.k8s.io/ClusterRole",
  "rbac.authorization.k8s.io/ClusterRoleBinding",
  "networking.k8s.io/IngressClass",
  "scheduling.k8s.io/PriorityClass",
  "storage.k8s.io/StorageClass",
  "admissionregistration.k8s.io/MutatingWebhookConfiguration",
  "admissionregistration.k8s.io/ValidatingWebhookConfiguration",
]);

const groupKind = (ref: Pick<ObjectRef, "apiVersion" | "kind">) => `${groupOf(ref.apiVersion)}/${ref.kind}`;

/** The health check that judges a kind: its own, or the generic conditions check. */
export function healthCheckFor(ref: Pick<ObjectRef, "apiVersion" | "kind">): HealthCheck {
  return CHECKS.get(groupKind(ref)) ?? genericHealth;
}

/** True for kinds without a status: current as soon as they are applied. */
export function isStatusless(ref: Pick<ObjectRef, "apiVersion" | "kind">): boolean {
  return STATUSLESS.has(groupKind(ref));
}

/** The health of a live object read at `now` (`undefined`: not found, so in progress until it appears). */
export function healthOf(
  ref: Pick<ObjectRef, "apiVersion" | "kind">,
  object: LiveResource | undefined,
  now = Date.now(),
): Health {
  if (object === undefined) return inProgress("not found");
  return healthCheckFor(ref).check(object, now);
}
