import type { ClusterSelector } from "../config/cluster-selector.js";
import type { ClusterConfig } from "../config/server-config.js";
import { clusterMatcher } from "./cluster-matcher.js";
import { listSome } from "./list-some.js";

/** Most names `describeSelector` lists before it counts the rest. */
const MAX_NAMES_SHOWN = 10;

/** The registered clusters `selector` selects, in the order the server config lists them. */
export function selectClusters(selector: ClusterSelector, clusters: ClusterConfig[]): ClusterConfig[] {
  return clusters.filter(clusterMatcher(selector));
}

/**
 * A selector in a few words, for errors and reports: `region In (eu, us), tier=prod`,
 * `names (eu-1, eu-2) or tier=canary`, `every cluster`. Requirements are sorted by key.
 */
export function describeSelector(selector: ClusterSelector): string {
  const requirements = [
    ...Object.entries(selector.matchLabels ?? {}).map(([key, value]) => ({ key, text: `${key}=${value}` })),
    ...(selector.matchExpressions ?? []).map(({ key, operator, values }) => ({
      key,
      text:
        operator === "In" || operator === "NotIn"
          ? `${key} ${operator} (${(values ?? []).join(", ")})`
          : `${key} ${operator}`,
    })),
  ].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const labelPart = requirements.map((r) => r.text).join(", ");
  const names = selector.names ?? [];
  const namePart = names.length === 0 ? "" : `names (${listSome(names, MAX_NAMES_SHOWN)})`;
  if (namePart !== "" && labelPart !== "") return `${namePart} or ${labelPart}`;
  return namePart || labelPart || "every cluster";
}
