import type { Logger } from "pino";
import type { KubeClient, WatchEvent } from "../kube/kube-client.js";
import type { RedisClient } from "../queue/redis-connection.js";
import { ResourceWatch } from "./resource-watch.js";
import { WatchCache } from "./watch-cache.js";
import type { WatchCaches } from "./watch-caches.js";

/** One collection to watch on one cluster. */
export interface WatchTarget {
  /** Stable id: the lease and the remembered version are kept under it. */
  id: string;
  cluster: string;
  /** The collection, e.g. `/api/v1/namespaces/shop/configmaps`. */
  path: string;
  labelSelector?: string;
}

/** What a {@link WatchSupervisor} needs. */
export interface WatchSupervisorOptions {
  redis: RedisClient;
  /** This process, as leases name their holder. */
  owner: string;
  /** The collections that should be watched now (by some process). */
  targets(): Promise<WatchTarget[]>;
  client(cluster: string): Promise<KubeClient>;
  onChange(target: WatchTarget, event: WatchEvent): void;
  /** A watch started (or started over) from a fresh list: changes to the target before it are not told. */
  onResync(target: WatchTarget): void;
  log: Logger;
  /** Told after each round how many targets this process watches (for a gauge). */
  onHeld?(count: number): void;
  /** How long a lease outlives a holder that stopped renewing it (default 30 s); renewed every third of it. */
  leaseMs?: number;
  /** Keep each watched collection's objects in a cache registered here, for plans and reconciles in this process. */
  caches?: WatchCaches;
}

/** Renews a lease only while it is still ours. KEYS: lease. ARGV: owner, ms. */
const RENEW = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end`;
/** Frees a lease only while it is still ours. KEYS: lease. ARGV: owner. */
const RELEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

const leaseKey = (id: string) => `ferry:watch-lease:{${id}}`;
const versionKey = (id: string) => `ferry:watch-version:{${id}}`;

/**
 * The process holding each target's lease now (undefined where nobody does), by target id: one GET
 * per lease, since on a Redis Cluster each lease is on a slot of its own.
 */
export async function leaseHolders(redis: RedisClient, ids: string[]): Promise<Map<string, string | undefined>> {
  const holders = await Promise.all(ids.map((id) => redis.get(leaseKey(id))));
  return new Map(ids.map((id, i) => [id, holders[i] ?? undefined]));
}

/**
 * Keeps every target watched by exactly one process: each worker runs a supervisor, which takes the
 * lease of any target nobody holds and watches it; a worker that dies stops renewing its leases, and
 * once they lapse another worker takes its targets over, starting from the version the dead one last
 * recorded, so changes made in between are still told (or, when that version expired, a resync).
 */
export class WatchSupervisor {
  private readonly watches = new Map<string, { watch: ResourceWatch; target: WatchTarget; cache?: WatchCache }>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> = Promise.resolve();
  private stopped = false;

  /** Binds the supervisor; {@link start} begins taking leases. */
  constructor(private readonly options: WatchSupervisorOptions) {}

  /** The targets this process watches now. */
  held(): string[] {
    return [...this.watches.keys()];
  }

  /** Takes free leases now and every third of the lease time. */
  start(): void {
    const every = (this.options.leaseMs ?? 30_000) / 3;
    const tick = () => {
      this.ticking = this.tick().catch((error: unknown) =>
        this.options.log.warn({ err: error }, "watch supervisor tick failed"),
      );
    };
    tick();
    this.timer = setInterval(tick, every);
  }

  /**
   * Stops every watch, recording where each got to. `release: false` leaves the leases to lapse, as
   * a killed process would (for tests of the takeover); by default they are freed for others at once.
   */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.ticking;
    for (const id of [...this.watches.keys()]) await this.drop(id, options.release ?? true);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const { redis, owner } = this.options;
    const leaseMs = this.options.leaseMs ?? 30_000;
    const targets = await this.options.targets();
    const wanted = new Set(targets.map((t) => t.id));
    for (const id of this.watches.keys()) {
      if (!wanted.has(id)) await this.drop(id, true);
    }
    for (const target of targets) {
      if (this.stopped) return;
      const watch = this.watches.get(target.id)?.watch;
      if (watch) {
        const renewed = await redis.eval(RENEW, 1, leaseKey(target.id), owner, leaseMs);
        if (renewed === 0) {
          this.options.log.warn({ target: target.id }, "watch lease lost: another process took the target");
          await this.drop(target.id, false);
        } else if (watch.resourceVersion !== undefined) {
          await redis.set(versionKey(target.id), watch.resourceVersion, "PX", 24 * 3600_000);
        }
        continue;
      }
      if ((await redis.set(leaseKey(target.id), owner, "PX", leaseMs, "NX")) !== "OK") continue;
      await this.watch(target);
    }
    this.options.onHeld?.(this.watches.size);
  }

  private async watch(target: WatchTarget): Promise<void> {
    const from = await this.options.redis.get(versionKey(target.id));
    const caches = this.options.caches;
    const cache =
      caches &&
      new WatchCache({
        budget: caches,
        onDropped: () =>
          this.options.log.warn(
            { target: target.id, limit: caches.limit },
            "watch cache dropped: this worker's caches would pass reconcile.watchCacheLimit; plans of the collection read the API server",
          ),
      });
    const watch = new ResourceWatch({
      client: await this.options.client(target.cluster),
      path: target.path,
      ...(target.labelSelector === undefined ? {} : { labelSelector: target.labelSelector }),
      ...(from === null ? {} : { resourceVersion: from }),
      onChange: (event) => this.options.onChange(target, event),
      onResync: () => this.options.onResync(target),
      log: this.options.log,
      ...(cache === undefined ? {} : { cache, fillLimit: (fill) => this.options.caches?.fill(fill) ?? fill() }),
    });
    this.watches.set(target.id, { watch, target, ...(cache === undefined ? {} : { cache }) });
    if (cache) this.options.caches?.add(target.cluster, target.path, cache);
    watch.start();
    this.options.log.info({ target: target.id, from }, "watching");
    // A watch from a fresh list knows nothing of what changed before it: the owner looks once.
    if (from === null) this.options.onResync(target);
  }

  private async drop(id: string, release: boolean): Promise<void> {
    const held = this.watches.get(id);
    if (!held) return;
    const { watch, target, cache } = held;
    this.watches.delete(id);
    if (cache) this.options.caches?.remove(target.cluster, target.path, cache);
    await watch.stop();
    const { redis, owner } = this.options;
    if (watch.resourceVersion !== undefined)
      await redis.set(versionKey(id), watch.resourceVersion, "PX", 24 * 3600_000);
    if (release) await redis.eval(RELEASE, 1, leaseKey(id), owner);
  }
}
