import type { KubeClient } from "../kube/kube-client.js";
import { readLiveObjects, readLiveState, type LiveObject, type LiveReader } from "../kube/live-state.js";
import { refKey, type ObjectRef } from "../kube/object-ref.js";
import type { WatchCache } from "./watch-cache.js";
import type { WatchCaches } from "./watch-caches.js";

/** Objects a cache lacks are read by a GET each up to this many per (kind, namespace), by a LIST beyond. */
const GET_AT_MOST = 32;

/** Where a {@link cachedLiveReader} reads from. */
export interface CachedLiveReaderOptions {
  caches: WatchCaches;
  /** The cluster `client` talks to, as the caches name it. */
  cluster: string;
  client: KubeClient;
  /** Told after each read how many objects came from a cache and how many were asked of the API server. */
  onRead?(read: { cached: number; asked: number }): void;
}

/**
 * Reads live objects from this process's watch caches where it can, and from the API server for the
 * rest: an object is taken from its collection's cache only while that cache is fresh (see
 * `WatchCache.fresh`); an object the cache does not hold is asked for (a cache holds only objects
 * with Ferry's label, so its silence does not prove an object absent), by a GET each, or a LIST for
 * many; a collection without a fresh cache is read as today, by LIST.
 */
export function cachedLiveReader(options: CachedLiveReaderOptions): LiveReader {
  const { client } = options;
  return {
    state: async (refs) => {
      const { cached, rest } = await split(options, refs);
      const fromCache = new Map<string, LiveObject>();
      for (const [key, { ref, cache }] of cached) {
        const found = cache.get(ref.name);
        if (found) fromCache.set(key, found);
      }
      const [unwatched, missing] = await Promise.all([
        readLiveState(client, rest.unwatched),
        readLiveState(client, rest.missing, { getAtMost: GET_AT_MOST }),
      ]);
      options.onRead?.({ cached: cached.size, asked: rest.unwatched.length + rest.missing.length });
      return new Map([...unwatched, ...missing, ...fromCache]);
    },
    objects: async (refs) => {
      const { cached, rest } = await split(options, refs);
      const fromCache = new Map<string, Record<string, unknown>>();
      for (const [key, { ref, cache }] of cached) {
        const found = cache.object(ref.name);
        // Watched objects carry their kind; put the asked-for one back, as a LIST reader does.
        if (found) fromCache.set(key, { ...found, apiVersion: ref.apiVersion, kind: ref.kind });
      }
      const [unwatched, missing] = await Promise.all([
        readLiveObjects(client, rest.unwatched),
        readLiveObjects(client, rest.missing, { getAtMost: GET_AT_MOST }),
      ]);
      options.onRead?.({ cached: cached.size, asked: rest.unwatched.length + rest.missing.length });
      return new Map([...unwatched, ...missing, ...fromCache]);
    },
  };
}

/**
 * The refs a fresh cache holds (by key, with their cache), and the rest: those of collections
 * without a fresh cache (read as without caches), and those a fresh cache lacks (asked for one by one).
 */
async function split(
  options: CachedLiveReaderOptions,
  refs: ObjectRef[],
): Promise<{
  cached: Map<string, { ref: ObjectRef; cache: WatchCache }>;
  rest: { unwatched: ObjectRef[]; missing: ObjectRef[] };
}> {
  const group = (ref: ObjectRef) => `${ref.apiVersion}/${ref.kind}/${ref.namespace ?? ""}`;
  const paths = new Map<string, Promise<string | undefined>>();
  for (const ref of refs) if (!paths.has(group(ref))) paths.set(group(ref), pathOf(options.client, ref));
  const resolved = new Map<string, string | undefined>();
  for (const [id, path] of paths) resolved.set(id, await path);
  // Every collection's freshness is judged at once, and the caller reads them before it awaits anything.
  const caches = new Map<string, WatchCache | undefined>();
  for (const [id, path] of resolved)
    caches.set(id, path === undefined ? undefined : options.caches.fresh(options.cluster, path));
  const cached = new Map<string, { ref: ObjectRef; cache: WatchCache }>();
  const rest = { unwatched: [] as ObjectRef[], missing: [] as ObjectRef[] };
  for (const ref of refs) {
    const cache = caches.get(group(ref));
    if (cache === undefined) rest.unwatched.push(ref);
    else if (cache.get(ref.name)) cached.set(refKey(ref), { ref, cache });
    else rest.missing.push(ref);
  }
  return { cached, rest };
}

/** The collection `ref` lives in, or undefined when the server does not serve its kind. */
function pathOf(client: KubeClient, ref: ObjectRef): Promise<string | undefined> {
  const collection = { apiVersion: ref.apiVersion, kind: ref.kind };
  return client
    .path(ref.namespace === undefined ? collection : { ...collection, namespace: ref.namespace })
    .catch(() => undefined);
}
