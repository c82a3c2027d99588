import { createHash } from "node:crypto";
import { permanent } from "../errors.js";
import type { KubeObject, RenderedObject } from "../render/types.js";
import type { KubeClient } from "./kube-client.js";
import { INVENTORY_ANNOTATION } from "./labels.js";
import { labelsToApply } from "./managed-by-label.js";
import { describeRef, refKey, refOf, type ObjectRef } from "./object-ref.js";

/** An object ready to apply: namespace resolved, Ferry's label (see {@link labelsToApply}) and owner annotation added, hashed. */
export interface DesiredObject {
  object: KubeObject;
  ref: ObjectRef;
  key: string;
  /** Where it came from in the repository. */
  source: string;
  /** Hash of exactly what Ferry sends; unchanged hash and unchanged live object mean nothing to apply. */
  hash: string;
  /** True when its kind is defined by a CustomResourceDefinition in the same release (not yet served). */
  pendingCrd: boolean;
}

const CRD_KIND = "CustomResourceDefinition";

/**
 * Resolves rendered objects against the cluster's discovery: namespaced kinds get the environment's
 * namespace when they name none, cluster-scoped ones lose any namespace (as kubectl does), Ferry's
 * label (where it does not stop the server's defaulting: {@link labelsToApply}) and owner annotation
 * are added. Every unknown kind is reported at once.
 */
export async function prepareObjects(client: KubeClient, rendered: RenderedObject[], defaultNamespace: string, inventoryId: string): Promise<DesiredObject[]> {
  const crdScopes = new Map<string, boolean>();
  for (const { object } of rendered) {
    if (object.kind !== CRD_KIND) continue;
    const spec = object.spec as { group?: string; names?: { kind?: string }; scope?: string; versions?: Array<{ name?: string }> } | undefined;
    for (const version of spec?.versions ?? []) {
      crdScopes.set(`${spec?.group}/${version.name}/${spec?.names?.kind}`, spec?.scope !== "Cluster");
    }
  }
  const problems: string[] = [];
  const desired = await Promise.all(
    rendered.map(async ({ object, source }) => {
      const info = await client.resource(object.apiVersion, object.kind);
      const fromCrd = crdScopes.get(`${object.apiVersion}/${object.kind}`);
      if (!info && fromCrd === undefined) {
        problems.push(`${describeRef(refOf(object))} (${source}): the cluster has no kind ${object.kind} in ${object.apiVersion}`);
        return undefined;
      }
      const namespaced = info?.namespaced ?? fromCrd === true;
      const metadata = { ...object.metadata };
      if (namespaced) metadata.namespace ??= defaultNamespace;
      else delete metadata.namespace;
      const labels = labelsToApply(object);
      if (labels === undefined) delete metadata.labels;
      else metadata.labels = labels;
      metadata.annotations = { ...metadata.annotations, [INVENTORY_ANNOTATION]: inventoryId };
      const prepared: KubeObject = { ...object, metadata };
      const ref = refOf(prepared);
      return {
        object: prepared,
        ref,
        key: refKey(ref),
        source,
        hash: createHash("sha256").update(JSON.stringify(prepared)).digest("base64url").slice(0, 22),
        pendingCrd: !info,
      } satisfies DesiredObject;
    }),
  );
  if (problems.length > 0) throw permanent(problems.join("\n"));
  return desired.filter((d): d is DesiredObject => d !== undefined);
}
