import type { Logger } from "pino";
import { apiError, KubeApiError, type KubeClient, type WatchEvent } from "../kube/kube-client.js";
import type { WatchCache } from "./watch-cache.js";

/** What a {@link ResourceWatch} watches and whom it tells. */
export interface ResourceWatchOptions {
  client: KubeClient;
  /** The collection, e.g. `/api/v1/namespaces/shop/configmaps`. */
  path: string;
  /** Only objects with these labels, e.g. `app.kubernetes.io/managed-by=ferry`. */
  labelSelector?: string;
  /** Each change to a watched object, as it happens (not the objects there when the watch began). */
  onChange(event: WatchEvent): void;
  /** The watch had to start again from a fresh list (its place in the server's history expired): changes may have been missed. */
  onResync?(): void;
  /** Where to start, instead of a fresh list (a version remembered from an earlier watch). */
  resourceVersion?: string;
  log: Logger;
  /** Longest wait between attempts while the API server cannot be reached (default 30 s). */
  maxBackoffMs?: number;
  /**
   * Keep the collection's objects here: filled by a whole LIST when the watch starts (and again
   * after a 410), then kept by every event, and told when the connection opens and closes.
   */
  cache?: WatchCache;
  /** Runs each fill of the cache (its LIST) when a slot is free: a process filling many caches at once would hold every list parsed at once. */
  fillLimit?: <T>(fill: () => Promise<T>) => Promise<T>;
}

/** How long the API server keeps one watch request open before Ferry opens the next. */
const WATCH_SECONDS = 300;

/**
 * One watch of one collection that keeps going: it starts from the collection's current version,
 * follows the server's events (bookmarks keep its version fresh while nothing changes), reconnects
 * from the last version it saw when the connection ends or drops, and when that version is too old
 * (410 Gone) starts over from a fresh list and says so. One connection per collection, whatever the
 * number of objects in it.
 */
export class ResourceWatch {
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private version: string | undefined;

  /** Binds the watch; {@link start} opens it. */
  constructor(private readonly options: ResourceWatchOptions) {
    this.version = options.resourceVersion;
  }

  /** The collection watched. */
  get path(): string {
    return this.options.path;
  }

  /** The version the watch has seen up to: where a later watch could carry on. */
  get resourceVersion(): string | undefined {
    return this.version;
  }

  /** Opens the watch; it runs until {@link stop}. */
  start(): void {
    this.running ??= this.run();
  }

  /** Ends the watch and waits until its connection is closed. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private async run(): Promise<void> {
    const { log, maxBackoffMs = 30_000 } = this.options;
    const signal = this.abort.signal;
    let backoff = 500;
    const cache = this.options.cache;
    let filled = false;
    while (!signal.aborted) {
      try {
        if (cache && !filled) {
          // The cache needs every object; the watch may still go on from an older version it resumes from.
          const fill = () => this.fill(cache);
          const version = await (this.options.fillLimit ? this.options.fillLimit(fill) : fill());
          this.version ??= version;
          filled = true;
        }
        this.version ??= await this.listVersion();
        // One request's own abort: the server may hold a watch open after telling it expired.
        const request = new AbortController();
        const stop = () => request.abort();
        signal.addEventListener("abort", stop, { once: true });
        let expired = false;
        try {
          await this.options.client.watch(
            this.watchPath(this.version),
            (event) => {
              if (event.type === "ERROR") {
                expired ||= event.object.code === 410;
                if (expired) request.abort();
                else log.warn({ path: this.options.path, status: event.object }, "watch error");
                return;
              }
              this.version = event.object.metadata?.resourceVersion ?? this.version;
              cache?.apply(event);
              if (event.type !== "BOOKMARK") this.options.onChange(event);
            },
            request.signal,
            () => cache?.connection(true),
          );
        } finally {
          cache?.connection(false);
          signal.removeEventListener("abort", stop);
        }
        backoff = 500;
        if (expired) filled = this.resync();
      } catch (error) {
        if (signal.aborted) break;
        if (error instanceof KubeApiError && error.status === 410) {
          filled = this.resync();
          continue;
        }
        log.warn({ err: error, path: this.options.path, retryInMs: backoff }, "watch failed; trying again");
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, maxBackoffMs);
      }
    }
  }

  /**
   * The version was too old: start again from a fresh list (the cache, if any, is emptied until it
   * is filled again), and tell the owner changes may have been missed. Returns false: not filled.
   */
  private resync(): false {
    this.version = undefined;
    this.options.cache?.invalidate();
    this.options.log.info({ path: this.options.path }, "watch expired: starting over from a fresh list");
    this.options.onResync?.();
    return false;
  }

  /**
   * Fills `cache` with every object of the collection (with the selector), by a paginated LIST, a
   * page at a time; the watch may go on from an older version it resumes from. Returns the list's version.
   */
  private async fill(cache: WatchCache): Promise<string> {
    const filling = cache.fill();
    let next = "";
    for (;;) {
      const query = `?limit=500${next ? `&continue=${encodeURIComponent(next)}` : ""}${this.selector()}`;
      const res = await this.options.client.request("GET", `${this.options.path}${query}`);
      if (res.status !== 200) throw apiError(res);
      const list = res.body as {
        metadata?: { resourceVersion?: string; continue?: string };
        items?: Array<Record<string, unknown>>;
      };
      filling.add(list.items ?? []);
      if (!list.metadata?.continue) {
        const version = list.metadata?.resourceVersion;
        if (!version) throw new Error(`the API server gave no resourceVersion for ${this.options.path}`);
        filling.done(version, this.version);
        return version;
      }
      next = list.metadata.continue;
    }
  }

  /** The collection's current version, from a LIST of at most one object. */
  private async listVersion(): Promise<string> {
    const list = (await this.options.client.call("GET", `${this.options.path}?limit=1${this.selector()}`)) as {
      metadata?: { resourceVersion?: string };
    };
    const version = list.metadata?.resourceVersion;
    if (!version) throw new Error(`the API server gave no resourceVersion for ${this.options.path}`);
    return version;
  }

  private watchPath(version: string): string {
    return `${this.options.path}?watch=1&allowWatchBookmarks=true&timeoutSeconds=${WATCH_SECONDS}&resourceVersion=${encodeURIComponent(version)}${this.selector()}`;
  }

  private selector(): string {
    return this.options.labelSelector ? `&labelSelector=${encodeURIComponent(this.options.labelSelector)}` : "";
  }
}

/** Waits `ms`, or less when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });
}
