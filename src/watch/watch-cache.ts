import type { WatchEvent } from "../kube/kube-client.js";
import { INVENTORY_ANNOTATION } from "../kube/labels.js";

/** One cached object: what a plan's comparison reads without parsing, and the object as JSON text. */
interface Entry {
  name: string;
  resourceVersion: string;
  inventory: string | undefined;
  /** The whole object (managedFields included: drift reads them), as the API server sent it. */
  json: string;
}

/** What a {@link WatchCache} can tell of one object. */
export interface CachedObject {
  resourceVersion: string;
  /** The inventory its owner annotation names. */
  inventory?: string;
}

/** A listed or watched object, as far as the cache reads it. */
type Item = { metadata?: { name?: string; resourceVersion?: string; annotations?: Record<string, string> } };

/**
 * Longest silence (no event, no bookmark) after which a cache is no longer trusted. The API server
 * sends each watch a bookmark about once a minute, so a live watch is never this quiet; a watch whose
 * connection died without a word is, and falls back to LISTs a minute and a half later at most.
 */
export const MAX_SILENCE_MS = 90_000;

/** An allowance of cached JSON characters that a process's caches share (see `WatchCaches`). */
export interface CacheBudget {
  /** Takes `chars` more of the allowance (true), or refuses when that would pass it (false); a negative amount gives back. */
  take(chars: number): boolean;
}

/** How a cache is kept: its freshness clock, and the allowance it draws on. */
export interface WatchCacheOptions {
  /** How long without an event or bookmark the cache stays trusted (default {@link MAX_SILENCE_MS}). */
  maxSilenceMs?: number;
  /** The clock freshness is judged by (tests give their own). */
  now?: () => number;
  /** The allowance the cache's JSON is counted against; without one it grows as the watch does. */
  budget?: CacheBudget;
  /** Told when the cache dropped everything because the allowance was spent (it is then never fresh again). */
  onDropped?(): void;
}

/**
 * The objects of one watched collection, as a watch has seen them: filled by a LIST, then kept by the
 * watch's events. A plan may trust it only while it is {@link fresh}: filled, caught up with the
 * list it was filled from, its watch connected, and heard from (an event or a bookmark) recently.
 * Objects are kept as the JSON text the server sent (a third of their size as parsed objects), with
 * their version and owner beside it, so a comparison reads no JSON and a diff parses only the objects
 * it shows. What it holds is bounded by the watch: only objects carrying Ferry's label, in
 * collections watched environments have objects in; and by its `budget`: a cache that would pass it
 * drops everything it holds and stays empty (its watch goes on telling changes; plans of the
 * collection read the API server, as without a cache).
 */
export class WatchCache {
  private entries = new Map<string, Entry>();
  private listedAt: bigint | undefined;
  private caughtUp = false;
  private connected = false;
  private heardAt = Number.NEGATIVE_INFINITY;
  private size = 0;
  private dropped = false;

  /** Binds the cache to its clock and allowance. */
  constructor(private readonly options: WatchCacheOptions = {}) {}

  /**
   * Replaces what the cache holds with a LIST's items at `version`. When the watch goes on from an
   * older version (`watchFrom`: a process taking over another's watch), its events replay onto the
   * list in order, which leaves each object as it was at `version` or later; the cache counts as
   * caught up once the watch has passed `version`.
   */
  replace(items: Item[], version: string, watchFrom: string = version): void {
    const fill = this.fill();
    fill.add(items);
    fill.done(version, watchFrom);
  }

  /**
   * Replaces what the cache holds with a paginated LIST's items page by page (`add`), so only a page
   * is ever held parsed; `done` with the list's version (see {@link replace}) swaps them in. Until
   * then the cache goes on as it was.
   */
  fill(): { add(items: Item[]): void; done(version: string, watchFrom?: string): void } {
    const next = new Map<string, Entry>();
    let size = 0;
    let spent = false;
    return {
      add: (items) => {
        for (const item of items) {
          const entry = entryOf(item);
          if (!entry || spent || this.dropped) continue;
          const grows = entry.json.length - (next.get(entry.name)?.json.length ?? 0);
          // Both lists are held while the new one fills, and both count.
          if (!this.take(grows)) spent = true;
          else {
            size += grows;
            next.set(entry.name, entry);
          }
        }
      },
      done: (version, watchFrom = version) => {
        if (spent || this.dropped) {
          this.take(-size);
          this.drop();
          return;
        }
        this.take(-this.size);
        this.entries = next;
        this.size = size;
        this.listedAt = parseVersion(version);
        this.caughtUp = false;
        this.heard(watchFrom);
      },
    };
  }

  /** Applies one watch event (bookmarks and errors only move the version). */
  apply(event: WatchEvent): void {
    const name = event.object.metadata?.name;
    if (event.type === "ADDED" || event.type === "MODIFIED") this.set(event.object);
    else if (event.type === "DELETED" && name !== undefined) this.remove(name);
    const version = event.object.metadata?.resourceVersion;
    if (event.type !== "ERROR" && version !== undefined) this.heard(version);
  }

  /** The watch's connection opened (true) or closed (false). */
  connection(open: boolean): void {
    this.connected = open;
  }

  /** Forgets everything: the watch must list again (its version expired) before the cache is used. */
  invalidate(): void {
    this.take(-this.size);
    this.entries.clear();
    this.size = 0;
    this.listedAt = undefined;
    this.caughtUp = false;
  }

  /** Gives everything back to the allowance for good: the watch stopped (no drop is told). */
  close(): void {
    this.invalidate();
    this.dropped = true;
  }

  /** Whether a plan may read the cache instead of the API server now. */
  fresh(): boolean {
    const now = (this.options.now ?? Date.now)();
    return (
      !this.dropped &&
      this.listedAt !== undefined &&
      this.caughtUp &&
      this.connected &&
      now - this.heardAt <= (this.options.maxSilenceMs ?? MAX_SILENCE_MS)
    );
  }

  /** The version and owner of object `name`, or undefined when the cache does not hold it. */
  get(name: string): CachedObject | undefined {
    const entry = this.entries.get(name);
    if (!entry) return undefined;
    return {
      resourceVersion: entry.resourceVersion,
      ...(entry.inventory === undefined ? {} : { inventory: entry.inventory }),
    };
  }

  /** Object `name` whole, parsed afresh (the caller may change it), or undefined when not held. */
  object(name: string): Record<string, unknown> | undefined {
    const entry = this.entries.get(name);
    return entry && (JSON.parse(entry.json) as Record<string, unknown>);
  }

  /** How many objects the cache holds. */
  get count(): number {
    return this.entries.size;
  }

  /** The characters of JSON the cache holds: most of its memory. */
  get bytes(): number {
    return this.size;
  }

  /** True once the allowance ran out and the cache dropped what it held (it stays empty). */
  get spent(): boolean {
    return this.dropped;
  }

  private set(item: Item): void {
    const entry = entryOf(item);
    if (!entry || this.dropped) return;
    this.remove(entry.name);
    if (!this.take(entry.json.length)) return this.drop();
    this.entries.set(entry.name, entry);
    this.size += entry.json.length;
  }

  private remove(name: string): void {
    const entry = this.entries.get(name);
    if (!entry) return;
    this.entries.delete(name);
    this.size -= entry.json.length;
    this.take(-entry.json.length);
  }

  private take(chars: number): boolean {
    return this.options.budget?.take(chars) ?? true;
  }

  /** The allowance is spent: give back everything and hold nothing from now on. */
  private drop(): void {
    if (this.dropped) return;
    this.invalidate();
    this.dropped = true;
    this.options.onDropped?.();
  }

  private heard(version: string): void {
    this.heardAt = (this.options.now ?? Date.now)();
    const at = parseVersion(version);
    if (this.listedAt !== undefined && at !== undefined && at >= this.listedAt) this.caughtUp = true;
  }
}

/** An object as the cache keeps it, or undefined for one without a name or version. */
function entryOf(item: Item): Entry | undefined {
  const metadata = item.metadata;
  if (metadata?.name === undefined || metadata.resourceVersion === undefined) return undefined;
  return {
    name: metadata.name,
    resourceVersion: metadata.resourceVersion,
    inventory: metadata.annotations?.[INVENTORY_ANNOTATION],
    json: JSON.stringify(item),
  };
}

/**
 * A resourceVersion as a number to compare. Kubernetes calls them opaque, but an API server over
 * etcd gives etcd's revision; anything else is never taken as caught up, so the cache is not used.
 */
function parseVersion(version: string): bigint | undefined {
  return /^\d{1,30}$/.test(version) ? BigInt(version) : undefined;
}
