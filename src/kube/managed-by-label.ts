import type { KubeObject } from "../render/types.js";
import { MANAGED_BY_LABEL } from "./labels.js";
import { groupOf } from "./object-ref.js";

/**
 * Kinds (`group/Kind`) whose labels the API server defaults from the pod template, and only when the
 * object has no labels of its own: a Job gets `job-name` and `controller-uid` that way (what
 * `kubectl get jobs -l job-name=…` selects on), a ReplicationController its template's labels.
 */
const LABELS_DEFAULTED_FROM_TEMPLATE = new Set(["batch/Job", "/ReplicationController"]);

/**
 * The labels Ferry applies on `object`: the manifest's own plus `app.kubernetes.io/managed-by: ferry`,
 * except on a kind of {@link LABELS_DEFAULTED_FROM_TEMPLATE} whose manifest has none, where Ferry's
 * label would be the one that stops the server's defaulting. Such an object is still marked as
 * Ferry's by the inventory annotation every applied object carries (what prune goes by).
 */
export function labelsToApply(object: KubeObject): Record<string, string> | undefined {
  const own = object.metadata.labels;
  const defaulted = LABELS_DEFAULTED_FROM_TEMPLATE.has(`${groupOf(object.apiVersion)}/${object.kind}`);
  if (defaulted && Object.keys(own ?? {}).length === 0) return own;
  return { ...own, [MANAGED_BY_LABEL]: "ferry" };
}
