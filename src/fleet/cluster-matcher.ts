import type { ClusterSelector, LabelRequirement } from "../config/cluster-selector.js";
import type { ClusterConfig } from "../config/server-config.js";

/** What a selector looks at: a cluster's name and labels. */
export type SelectableCluster = Pick<ClusterConfig, "name" | "labels">;

/**
 * A predicate for `selector`, built once so that testing many clusters costs one pass: a cluster
 * matches when `names` lists it, or when it meets every `matchLabels` entry and `matchExpressions`
 * requirement (Kubernetes label-selector semantics). A selector with neither matches every cluster.
 */
export function clusterMatcher(selector: ClusterSelector): (cluster: SelectableCluster) => boolean {
  const names = new Set(selector.names ?? []);
  const requirements = [
    ...Object.entries(selector.matchLabels ?? {}).map(
      ([key, value]) =>
        (labels: Record<string, string>) =>
          labelOf(labels, key) === value,
    ),
    ...(selector.matchExpressions ?? []).map(requirementTest),
  ];
  if (requirements.length === 0) return names.size === 0 ? () => true : (cluster) => names.has(cluster.name);
  return (cluster) => {
    if (names.has(cluster.name)) return true;
    for (const meets of requirements) if (!meets(cluster.labels)) return false;
    return true;
  };
}

/** The test one `matchExpressions` entry makes of a cluster's labels. */
function requirementTest(requirement: LabelRequirement): (labels: Record<string, string>) => boolean {
  const { key } = requirement;
  const values = new Set(requirement.values ?? []);
  switch (requirement.operator) {
    case "In":
      return (labels) => {
        const value = labelOf(labels, key);
        return value !== undefined && values.has(value);
      };
    case "NotIn":
      return (labels) => {
        const value = labelOf(labels, key);
        return value === undefined || !values.has(value);
      };
    case "Exists":
      return (labels) => labelOf(labels, key) !== undefined;
    case "DoesNotExist":
      return (labels) => labelOf(labels, key) === undefined;
  }
}

/** The value of label `key`, or undefined when the cluster has no such label (an inherited property is not a label). */
export function labelOf(labels: Record<string, string>, key: string): string | undefined {
  return Object.hasOwn(labels, key) ? labels[key] : undefined;
}
