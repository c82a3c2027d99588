import type { DesiredObject } from "../kube/desired-object.js";
import type { KubeClient } from "../kube/kube-client.js";
import { FIELD_MANAGER, MANAGED_BY_LABEL } from "../kube/labels.js";

/** Namespace, kept empty, in which Ferry dry-runs objects whose own namespace does not exist yet. */
export const VALIDATION_NAMESPACE = "ferry-validation";

/** Creates a namespace (server-side apply, so it is a no-op when it exists). */
export async function ensureNamespace(client: KubeClient, name: string): Promise<void> {
  const body = { apiVersion: "v1", kind: "Namespace", metadata: { name, labels: { [MANAGED_BY_LABEL]: "ferry" } } };
  await client.call("PATCH", `/api/v1/namespaces/${name}?fieldManager=${FIELD_MANAGER}&force=true`, body, "application/apply-patch+yaml");
}

/** The same object moved to another namespace: how objects whose namespace does not exist yet are validated. */
export function inNamespace(d: DesiredObject, namespace: string): DesiredObject {
  const ref = { ...d.ref, namespace };
  return { ...d, ref, object: { ...d.object, metadata: { ...d.object.metadata, namespace } } };
}
