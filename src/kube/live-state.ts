import type { KubeClient } from "./kube-client.js";
import { apiError } from "./kube-client.js";
import { INVENTORY_ANNOTATION } from "./labels.js";
import { refKey, type ObjectRef } from "./object-ref.js";

/** What Ferry needs to know of a live object: its version, and which inventory owns it. */
export interface LiveObject {
  resourceVersion: string;
  inventory?: string;
}

/** A listed object: at least its name, namespace, version and annotations. */
type ListedItem = Record<string, unknown> & { metadata: { name: string; namespace?: string; resourceVersion: string; annotations?: Record<string, string> } };

const METADATA_ONLY = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";

/**
 * Lists every object of the kinds and namespaces `refs` name, with one paginated LIST per
 * (kind, namespace) instead of a GET per object; kinds the server does not serve (yet) are skipped.
 * Calls `found` with each item's key and the item, its apiVersion and kind put back.
 */
async function listAll(client: KubeClient, refs: ObjectRef[], accept: string, found: (key: string, item: ListedItem) => void): Promise<void> {
  const groups = new Map<string, ObjectRef>();
  for (const ref of refs) groups.set(`${ref.apiVersion}/${ref.kind}/${ref.namespace ?? ""}`, ref);
  await Promise.all(
    [...groups.values()].map(async (ref) => {
      if (!(await client.resource(ref.apiVersion, ref.kind))) return;
      const path = await client.path({ apiVersion: ref.apiVersion, kind: ref.kind, namespace: ref.namespace });
      let next: string | undefined = "";
      while (next !== undefined) {
        const res = await client.request("GET", `${path}?limit=500${next ? `&continue=${encodeURIComponent(next)}` : ""}`, undefined, undefined, accept);
        if (res.status === 404) return;
        if (res.status !== 200) throw apiError(res);
        const list = res.body as { metadata?: { continue?: string }; items?: ListedItem[] };
        for (const item of list.items ?? []) {
          // LIST items carry no apiVersion/kind; put them back so diffs read like the manifests.
          found(refKey({ apiVersion: ref.apiVersion, kind: ref.kind, namespace: item.metadata.namespace, name: item.metadata.name }), { apiVersion: ref.apiVersion, kind: ref.kind, ...item });
        }
        next = list.metadata?.continue || undefined;
      }
    }),
  );
}

/**
 * Reads the live versions and owners of the objects in the kinds and namespaces of `refs`, metadata
 * only, so a release of a thousand unchanged objects costs a handful of small requests.
 */
export async function readLiveState(client: KubeClient, refs: ObjectRef[]): Promise<Map<string, LiveObject>> {
  const live = new Map<string, LiveObject>();
  await listAll(client, refs, METADATA_ONLY, (key, item) =>
    live.set(key, { resourceVersion: item.metadata.resourceVersion, inventory: item.metadata.annotations?.[INVENTORY_ANNOTATION] }),
  );
  return live;
}

/** Reads the full live objects among `refs`: what a plan diffs against. */
export async function readLiveObjects(client: KubeClient, refs: ObjectRef[]): Promise<Map<string, Record<string, unknown>>> {
  const wanted = new Set(refs.map(refKey));
  const live = new Map<string, Record<string, unknown>>();
  await listAll(client, refs, "application/json", (key, item) => {
    if (wanted.has(key)) live.set(key, item);
  });
  return live;
}
