import { permanent, type FerryError } from "../errors.js";
import type { DesiredObject } from "../kube/desired-object.js";
import type { KubeClient } from "../kube/kube-client.js";
import { FIELD_MANAGER, MANAGED_BY_LABEL } from "../kube/labels.js";
import type { ObjectRef } from "../kube/object-ref.js";

/**
 * Namespace, kept empty, in which Ferry dry-runs objects whose own namespace does not exist yet.
 * Installation creates it (the Helm chart, `ferry setup-cluster`); plans and releases only use it,
 * so a plan writes nothing and may run with read-only credentials.
 */
export const VALIDATION_NAMESPACE = "ferry-validation";

/**
 * The validation namespace as `ferry setup-cluster` creates it: annotated with what it is for, as
 * the Helm chart's is, and without a managed-by label, which the chart sets to Helm (the same label
 * with another value would make the two conflict).
 */
export function validationNamespaceObject(): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name: VALIDATION_NAMESPACE,
      annotations: {
        "ferry.dev/purpose": "Ferry dry-runs here the objects of namespaces that do not exist yet; keep it empty",
      },
    },
  };
}

/** The reference of the Namespace `name`. */
export function namespaceRef(name: string): ObjectRef {
  return { apiVersion: "v1", kind: "Namespace", name };
}

/** Creates a namespace (server-side apply, so it is a no-op when it exists). */
export async function ensureNamespace(client: KubeClient, name: string): Promise<void> {
  const body = { apiVersion: "v1", kind: "Namespace", metadata: { name, labels: { [MANAGED_BY_LABEL]: "ferry" } } };
  await client.call(
    "PATCH",
    `/api/v1/namespaces/${name}?fieldManager=${FIELD_MANAGER}&force=true`,
    body,
    "application/apply-patch+yaml",
  );
}

/** The same object moved to another namespace: how objects whose namespace does not exist yet are validated. */
export function inNamespace(d: DesiredObject, namespace: string): DesiredObject {
  const ref = { ...d.ref, namespace };
  return { ...d, ref, object: { ...d.object, metadata: { ...d.object.metadata, namespace } } };
}

/**
 * The permanent error of objects that can only be validated in the validation namespace when the
 * cluster has none: it names the namespaces that do not exist yet and how to create the
 * validation namespace; `what` (e.g. "nothing was applied") closes it.
 */
export function validationNamespaceMissing(
  objects: DesiredObject[],
  validationNamespace: string,
  cluster: string,
  what: string,
): FerryError {
  const missing = [...new Set(objects.map((d) => d.ref.namespace ?? ""))];
  return permanent(
    `namespace${missing.length === 1 ? "" : "s"} ${missing.join(", ")} ${missing.length === 1 ? "does" : "do"} not exist yet, so ${objects.length === 1 ? "its object" : "their objects"} can only be ` +
      `validated in Ferry's validation namespace ${validationNamespace}, which does not exist on cluster "${cluster}": ` +
      `create it with \`ferry setup-cluster\` (or Ferry's Helm chart, on its own cluster); ${what}`,
  );
}
