/**
 * The order kinds are applied in, as Helm installs them: what others depend on first.
 * Kinds not listed come after all of these, in one group.
 */
const KIND_ORDER = [
  "Namespace",
  "NetworkPolicy",
  "ResourceQuota",
  "LimitRange",
  "PodSecurityPolicy",
  "PodDisruptionBudget",
  "ServiceAccount",
  "Secret",
  "SecretList",
  "ConfigMap",
  "StorageClass",
  "PersistentVolume",
  "PersistentVolumeClaim",
  "CustomResourceDefinition",
  "ClusterRole",
  "ClusterRoleList",
  "ClusterRoleBinding",
  "ClusterRoleBindingList",
  "Role",
  "RoleList",
  "RoleBinding",
  "RoleBindingList",
  "Service",
  "DaemonSet",
  "Pod",
  "ReplicationController",
  "ReplicaSet",
  "Deployment",
  "HorizontalPodAutoscaler",
  "StatefulSet",
  "Job",
  "CronJob",
  "IngressClass",
  "Ingress",
  "APIService",
  "MutatingWebhookConfiguration",
  "ValidatingWebhookConfiguration",
];

/** Kinds everything else may depend on existing: applied, and for CRDs established, before the rest. */
export const FOUNDATION_KINDS = new Set(["Namespace", "CustomResourceDefinition"]);

/** Groups items into the waves they are applied in: each wave's kinds come before the next wave's. */
export function applyWaves<T>(items: T[], kindOf: (item: T) => string): T[][] {
  const waves = new Map<number, T[]>();
  for (const item of items) {
    const index = KIND_ORDER.indexOf(kindOf(item));
    const wave = index === -1 ? KIND_ORDER.length : index;
    const group = waves.get(wave);
    if (group) group.push(item);
    else waves.set(wave, [item]);
  }
  return [...waves.entries()].sort(([a], [b]) => a - b).map(([, group]) => group);
}
