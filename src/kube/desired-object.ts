import { createHash } from "node:crypto";
import { permanent } from "../errors.js";
import type { KubeObject, RenderedObject } from "../render/types.js";
import { noMatchesFor, type KubeClient } from "./kube-client.js";
import { INVENTORY_ANNOTATION, TAKE_OVER_ANNOTATION } from "./labels.js";
import { labelsToApply } from "./managed-by-label.js";
import { describeRef, groupOf, refKey, refOf, type ObjectRef } from "./object-ref.js";

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
  /** The forms of SOPS-decrypted values it holds (`RenderedObject.secrets`), never to be shown. */
  secrets?: string[];
}

const CRD_KIND = "CustomResourceDefinition";

/** What a CustomResourceDefinition in the release defines: whether its kind is namespaced, and the versions it serves. */
interface CrdInRelease {
  namespaced: boolean;
  /** Group versions (`example.com/v1`) the CRD serves once established. */
  served: string[];
}

/** The kinds the release's own CustomResourceDefinitions define, by `group/kind`. */
function crdsInRelease(rendered: RenderedObject[]): Map<string, CrdInRelease> {
  const crds = new Map<string, CrdInRelease>();
  for (const { object } of rendered) {
    if (object.kind !== CRD_KIND) continue;
    const spec = object.spec as
      | {
          group?: string;
          names?: { kind?: string };
          scope?: string;
          versions?: Array<{ name?: string; served?: boolean }>;
        }
      | undefined;
    const served = (spec?.versions ?? []).filter((v) => v.served !== false).map((v) => `${spec?.group}/${v.name}`);
    crds.set(`${spec?.group}/${spec?.names?.kind}`, { namespaced: spec?.scope !== "Cluster", served });
  }
  return crds;
}

/**
 * Why `object` cannot be applied though its kind exists: in kubectl's words (`no matches for kind`),
 * then the versions that do serve it, from the release's CRD or the cluster's discovery.
 */
async function unservedProblem(client: KubeClient, object: KubeObject, crd: CrdInRelease | undefined): Promise<string> {
  const noMatches = noMatchesFor(object.kind, object.apiVersion);
  if (crd && crd.served.length > 0)
    return `${noMatches} (the CustomResourceDefinition in this release serves it as ${crd.served.join(", ")})`;
  const serving = await client.versionsServing(object.apiVersion, object.kind);
  if (serving.length > 0) return `${noMatches} (the cluster serves it as ${serving.join(", ")})`;
  return `${noMatches} (ensure CRDs are installed first)`;
}

/**
 * Resolves rendered objects against the cluster's discovery: namespaced kinds get the environment's
 * namespace when they name none, cluster-scoped ones lose any namespace (as kubectl does), Ferry's
 * label (where it does not stop the server's defaulting: {@link labelsToApply}) and owner annotation
 * are added. Every kind in a version neither the cluster nor a CustomResourceDefinition of the
 * release serves, and every `ferry.dev/take-over` annotation other than `"true"`, is reported at
 * once, in one permanent error.
 */
export async function prepareObjects(
  client: KubeClient,
  rendered: RenderedObject[],
  defaultNamespace: string,
  inventoryId: string,
): Promise<DesiredObject[]> {
  const crds = crdsInRelease(rendered);
  // By kind and version: a thousand objects of one unserved kind ask discovery once what serves it.
  const unserved = new Map<string, Promise<string>>();
  const problems: Array<string | undefined> = [];
  const desired = await Promise.all(
    rendered.map(async ({ object, source, secrets }, i) => {
      const info = await client.resource(object.apiVersion, object.kind);
      const crd = crds.get(`${groupOf(object.apiVersion)}/${object.kind}`);
      const fromCrd = crd?.served.includes(object.apiVersion) ? crd : undefined;
      if (!info && !fromCrd) {
        const key = `${object.apiVersion}/${object.kind}`;
        if (!unserved.has(key)) unserved.set(key, unservedProblem(client, object, crd));
        problems[i] = `${describeRef(refOf(object))} (${source}): ${await unserved.get(key)}`;
        return undefined;
      }
      const takeOver = object.metadata.annotations?.[TAKE_OVER_ANNOTATION];
      if (takeOver !== undefined && takeOver !== "true") {
        problems[i] =
          `${describeRef(refOf(object))} (${source}): annotation ${TAKE_OVER_ANNOTATION} must be "true" (take the object over from the environment that owns it), not ${JSON.stringify(takeOver)}`;
        return undefined;
      }
      const namespaced = info?.namespaced ?? fromCrd?.namespaced === true;
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
        ...(secrets === undefined ? {} : { secrets }),
      } satisfies DesiredObject;
    }),
  );
  const found = problems.filter((p) => p !== undefined);
  if (found.length > 0) throw permanent(found.join("\n"));
  return desired.filter((d): d is DesiredObject => d !== undefined);
}
