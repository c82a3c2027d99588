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
type ListedItem = Record<string, unknown> & {
  metadata: { name: string; namespace?: string; resourceVersion: string; annotations?: Record<string, string> };
};

/** How to ask for what is read: metadata only (a LIST's and a GET's Accept), or whole objects. */
interface Wanted {
  list: string;
  get: string;
}

const METADATA_ONLY: Wanted = {
  list: "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json",
  get: "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json",
};
const WHOLE: Wanted = { list: "application/json", get: "application/json" };

/**
 * Up to this many objects of one (kind, namespace) are read by a GET each; more by one LIST. A LIST
 * costs as much as the kind has objects there: for the two Namespaces every release looks at, a GET
 * each, not a LIST of every namespace on the cluster (on a cluster with thousands that LIST was most
 * of a small release's time).
 */
const GET_AT_MOST = 2;

/**
 * Reads the objects `refs` name with one paginated LIST per (kind, namespace), or a GET per object
 * where only a few are wanted; kinds the server does not serve (yet) are skipped. Calls `found` with
 * each item's key and the item, its apiVersion and kind put back (a LIST may find others too).
 */
async function readAll(
  client: KubeClient,
  refs: ObjectRef[],
  accept: Wanted,
  found: (key: string, item: ListedItem) => void,
  getAtMost = GET_AT_MOST,
): Promise<void> {
  const groups = new Map<string, { ref: ObjectRef; names: Set<string> }>();
  for (const ref of refs) {
    const id = `${ref.apiVersion}/${ref.kind}/${ref.namespace ?? ""}`;
    const group = groups.get(id) ?? { ref, names: new Set<string>() };
    group.names.add(ref.name);
    groups.set(id, group);
  }
  // LIST items carry no apiVersion/kind; put them back so diffs read like the manifests.
  const add = (ref: ObjectRef, item: ListedItem) =>
    found(
      refKey({
        apiVersion: ref.apiVersion,
        kind: ref.kind,
        namespace: item.metadata.namespace,
        name: item.metadata.name,
      }),
      { ...item, apiVersion: ref.apiVersion, kind: ref.kind },
    );
  await Promise.all(
    [...groups.values()].map(async ({ ref, names }) => {
      if (!(await client.resource(ref.apiVersion, ref.kind))) return;
      const path = await client.path({ apiVersion: ref.apiVersion, kind: ref.kind, namespace: ref.namespace });
      if (names.size <= getAtMost) {
        await Promise.all(
          [...names].map(async (name) => {
            const res = await client.request(
              "GET",
              `${path}/${encodeURIComponent(name)}`,
              undefined,
              undefined,
              accept.get,
            );
            if (res.status === 404) return;
            if (res.status !== 200) throw apiError(res);
            add(ref, res.body as ListedItem);
          }),
        );
        return;
      }
      let next: string | undefined = "";
      while (next !== undefined) {
        const res = await client.request(
          "GET",
          `${path}?limit=500${next ? `&continue=${encodeURIComponent(next)}` : ""}`,
          undefined,
          undefined,
          accept.list,
        );
        if (res.status === 404) return;
        if (res.status !== 200) throw apiError(res);
        const list = res.body as { metadata?: { continue?: string }; items?: ListedItem[] };
        for (const item of list.items ?? []) add(ref, item);
        next = list.metadata?.continue || undefined;
      }
    }),
  );
}

/** How to read: `getAtMost` objects of one (kind, namespace) are read by a GET each, more by a LIST (default 2). */
export interface ReadOptions {
  getAtMost?: number;
}

/**
 * Reads the live versions and owners of the objects `refs` name, metadata only, so a release of a
 * thousand unchanged objects costs a handful of small requests.
 */
export async function readLiveState(
  client: KubeClient,
  refs: ObjectRef[],
  options: ReadOptions = {},
): Promise<Map<string, LiveObject>> {
  const live = new Map<string, LiveObject>();
  await readAll(
    client,
    refs,
    METADATA_ONLY,
    (key, item) =>
      live.set(key, {
        resourceVersion: item.metadata.resourceVersion,
        inventory: item.metadata.annotations?.[INVENTORY_ANNOTATION],
      }),
    options.getAtMost,
  );
  return live;
}

/** Reads the full live objects among `refs`: what a plan diffs against. */
export async function readLiveObjects(
  client: KubeClient,
  refs: ObjectRef[],
  options: ReadOptions = {},
): Promise<Map<string, Record<string, unknown>>> {
  const wanted = new Set(refs.map(refKey));
  const live = new Map<string, Record<string, unknown>>();
  await readAll(
    client,
    refs,
    WHOLE,
    (key, item) => {
      if (wanted.has(key)) live.set(key, item);
    },
    options.getAtMost,
  );
  return live;
}

/**
 * Where plans and reconciles read live objects from: the API server (`apiLiveReader`), or a watch
 * cache with the API server behind it (`src/watch/cached-live-reader.ts`). Releases always ask the
 * API server.
 */
export interface LiveReader {
  /** The versions and owners of the objects `refs` name that exist. */
  state(refs: ObjectRef[]): Promise<Map<string, LiveObject>>;
  /** The objects `refs` name that exist, whole (managedFields included), by ref key. */
  objects(refs: ObjectRef[]): Promise<Map<string, Record<string, unknown>>>;
}

/** Reads live objects from the API server: a LIST per (kind, namespace), or a GET each for a few. */
export function apiLiveReader(client: KubeClient): LiveReader {
  return { state: (refs) => readLiveState(client, refs), objects: (refs) => readLiveObjects(client, refs) };
}
