import pLimit from "p-limit";
import type { WatchCache } from "./watch-cache.js";

/** Caches filled (LISTed and kept as text) at once by one process: each holds its list parsed while it fills. */
const FILLS_AT_ONCE = 4;

/**
 * The watch caches of one process, by (cluster, collection path): the watch supervisor adds one for
 * each watch it runs and removes it when the watch stops; plans and reconciles in the same process
 * ask for a collection's cache and get it only while it is fresh.
 */
export class WatchCaches {
  private readonly caches = new Map<string, WatchCache>();
  private readonly fills = pLimit(FILLS_AT_ONCE);

  /** Runs a cache's fill when one of the process's few fill slots is free. */
  fill<T>(task: () => Promise<T>): Promise<T> {
    return this.fills(task);
  }

  /** Registers the cache of the watch of `path` on `cluster`. */
  add(cluster: string, path: string, cache: WatchCache): void {
    this.caches.set(key(cluster, path), cache);
  }

  /** Unregisters `cache` (nothing when another cache took its place since). */
  remove(cluster: string, path: string, cache: WatchCache): void {
    if (this.caches.get(key(cluster, path)) === cache) this.caches.delete(key(cluster, path));
  }

  /** The cache of `path` on `cluster` when this process watches it and the cache may be trusted now. */
  fresh(cluster: string, path: string): WatchCache | undefined {
    const cache = this.caches.get(key(cluster, path));
    return cache?.fresh() ? cache : undefined;
  }

  /** How many objects, and characters of JSON, every cache of the process holds. */
  held(): { objects: number; bytes: number } {
    let objects = 0;
    let bytes = 0;
    for (const cache of this.caches.values()) {
      objects += cache.count;
      bytes += cache.bytes;
    }
    return { objects, bytes };
  }
}

const key = (cluster: string, path: string) => `${cluster}\n${path}`;
