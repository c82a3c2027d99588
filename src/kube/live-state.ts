import type { KubeClient } from "./kube-client.js";
import { apiError } from "./kube-client.js";
import { INVENTORY_ANNOTATION } from "./labels.js";
import { refKey, type ObjectRef } from "./object-ref.js";

/** What Ferry needs to know of a live object: its version, and which inventory owns it. */
export interface LiveObject {
  resourceVersion: string;
  inventory?: string;
}

const METADATA_ONLY = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";

/**
 * Reads the live versions of `refs` with one metadata-only LIST per (kind, namespace) instead of a
 * GET per object, so a release of a thousand unchanged objects costs a handful of requests.
 * Kinds the server does not serve (yet) are skipped.
 */
export async function readLiveState(client: KubeClient, refs: ObjectRef[]): Promise<Map<string, LiveObject>> {
  const groups = new Map<string, ObjectRef>();
  for (const ref of refs) groups.set(`${ref.apiVersion}/${ref.kind}/${ref.namespace ?? ""}`, ref);
  const live = new Map<string, LiveObject>();
  await Promise.all(
    [...groups.values()].map(async (ref) => {
      if (!(await client.resource(ref.apiVersion, ref.kind))) return;
      const path = await client.path({ apiVersion: ref.apiVersion, kind: ref.kind, namespace: ref.namespace });
      let next: string | undefined = "";
      while (next !== undefined) {
        const res = await client.request("GET", `${path}?limit=500${next ? `&continue=${encodeURIComponent(next)}` : ""}`, undefined, undefined, METADATA_ONLY);
        if (res.status === 404) return;
        if (res.status !== 200) throw apiError(res);
        const list = res.body as { metadata?: { continue?: string }; items?: Array<{ metadata: { name: string; namespace?: string; resourceVersion: string; annotations?: Record<string, string> } }> };
        for (const item of list.items ?? []) {
          const key = refKey({ apiVersion: ref.apiVersion, kind: ref.kind, namespace: item.metadata.namespace, name: item.metadata.name });
          live.set(key, { resourceVersion: item.metadata.resourceVersion, inventory: item.metadata.annotations?.[INVENTORY_ANNOTATION] });
        }
        next = list.metadata?.continue || undefined;
      }
    }),
  );
  return live;
}

/**
 * Reads the full live objects among `refs`, one LIST per (kind, namespace): what a plan diffs
 * against. Kinds the server does not serve (yet) are skipped.
 */
export async function readLiveObjects(client: KubeClient, refs: ObjectRef[]): Promise<Map<string, Record<string, unknown>>> {
  const wanted = new Set(refs.map(refKey));
  const groups = new Map<string, ObjectRef>();
  for (const ref of refs) groups.set(`${ref.apiVersion}/${ref.kind}/${ref.namespace ?? ""}`, ref);
  const live = new Map<string, Record<string, unknown>>();
  await Promise.all(
    [...groups.values()].map(async (ref) => {
      if (!(await client.resource(ref.apiVersion, ref.kind))) return;
      const path = await client.path({ apiVersion: ref.apiVersion, kind: ref.kind, namespace: ref.namespace });
      let next: string | undefined = "";
      while (next !== undefined) {
        const res = await client.request("GET", `${path}?limit=500${next ? `&continue=${encodeURIComponent(next)}` : ""}`);
        if (res.status === 404) return;
        if (res.status !== 200) throw apiError(res);
        const list = res.body as { metadata?: { continue?: string }; items?: Array<Record<string, unknown> & { metadata: { name: string; namespace?: string } }> };
        for (const item of list.items ?? []) {
          const key = refKey({ apiVersion: ref.apiVersion, kind: ref.kind, namespace: item.metadata.namespace, name: item.metadata.name });
          // LIST items carry no apiVersion/kind; put them back so diffs read like the manifests.
          if (wanted.has(key)) live.set(key, { apiVersion: ref.apiVersion, kind: ref.kind, ...item });
        }
        next = list.metadata?.continue || undefined;
      }
    }),
  );
  return live;
}
