import pLimit from "p-limit";
import type { CacheBudget, WatchCache } from "./watch-cache.js";

/** Caches filled (LISTed and kept as text) at once by one process: each holds its list parsed while it fills. */
const FILLS_AT_ONCE = 4;

/**
 * The watch caches of one process, by (cluster, collection path): the watch supervisor adds one for
 * each watch it runs and removes it when the watch stops; plans and reconciles in the same process
 * ask for a collection's cache and get it only while it is fresh. It is also the caches' allowance
 * (`reconcile.watchCacheLimit`): the characters of JSON all of them may hold together; a cache that
 * would pass it drops what it holds, and its collection is read from the API server.
 */
export class WatchCaches implements CacheBudget {
  private readonly caches = new Map<string, WatchCache>();
  private readonly fills = pLimit(FILLS_AT_ONCE);
  private used = 0;

  /** An empty set of caches that may hold `limit` characters of JSON between them (no limit by default). */
  constructor(readonly limit = Number.POSITIVE_INFINITY) {}

  /** Takes `chars` of the allowance, or refuses when that would pass the limit; a negative amount gives back. */
  take(chars: number): boolean {
    if (chars > 0 && this.used + chars > this.limit) return false;
    this.used += chars;
    return true;
  }

  /** Runs a cache's fill when one of the process's few fill slots is free. */
  fill<T>(task: () => Promise<T>): Promise<T> {
    return this.fills(task);
  }

  /** Registers the cache of the watch of `path` on `cluster`. */
  add(cluster: string, path: string, cache: WatchCache): void {
    this.caches.set(key(cluster, path), cache);
  }

  /** Unregisters `cache` (nothing when another cache took its place since) and closes it, giving back what it held. */
  remove(cluster: string, path: string, cache: WatchCache): void {
    if (this.caches.get(key(cluster, path)) === cache) this.caches.delete(key(cluster, path));
    cache.close();
  }

  /** The cache of `path` on `cluster` when this process watches it and the cache may be trusted now. */
  fresh(cluster: string, path: string): WatchCache | undefined {
    const cache = this.caches.get(key(cluster, path));
    return cache?.fresh() ? cache : undefined;
  }

  /** How many objects, and characters of JSON, every cache of the process holds; how many caches the limit emptied. */
  held(): { objects: number; bytes: number; dropped: number } {
    let objects = 0;
    let bytes = 0;
    let dropped = 0;
    for (const cache of this.caches.values()) {
      objects += cache.count;
      bytes += cache.bytes;
      if (cache.spent) dropped++;
    }
    return { objects, bytes, dropped };
  }
}

const key = (cluster: string, path: string) => `${cluster}\n${path}`;
