import type { Logger } from "pino";
import { KubeApiError, type KubeClient, type WatchEvent } from "../kube/kube-client.js";
import { reconcileSchedulerId } from "../queue/reconcile-request.js";
import type { RedisClient } from "../queue/redis-connection.js";
import { changedOnlyByFerry } from "../watch/changed-only-by-ferry.js";
import { ownerOf, watchTargets } from "../watch/drift-watch.js";
import { ResourceWatch } from "../watch/resource-watch.js";
import type { WatchedEnvironment } from "../watch/watch-registry.js";
import type { AgentKeys } from "./agent-keys.js";
import type { AgentWatchEntry } from "./agent-watch-registry.js";

/** What an agent's watches need. */
export interface AgentWatchesOptions {
  /** The agent's Redis connection (its own user: only its keys). */
  redis: RedisClient;
  keys: AgentKeys;
  /** The agent's own cluster. */
  client: KubeClient;
  log: Logger;
  /** How often the agent re-reads what to watch (default 5 s). */
  refreshMs?: number;
  /** Changes within this time are told together, each environment once (default 250 ms). */
  debounceMs?: number;
}

/** A running set of an agent's watches. */
export interface AgentWatches {
  /** Reads what to watch now, instead of at the next refresh; resolves once the watches are (re)started. */
  refresh(): Promise<void>;
  /** Ends every watch. */
  stop(): Promise<void>;
}

/**
 * `reconcile.watch` on an agent cluster, the agent's half: reads what central Ferry asks it to
 * watch (its `watches` hash, on start and every `refreshMs`), holds one {@link ResourceWatch} per
 * collection (as the central drift watch: per namespace and kind, objects labelled as Ferry's), and
 * on a change not made by Ferry adds the scheduler id of the environment owning the object to its
 * `changed` set, which central Ferry pops; on start it adds every watched environment's (changes made
 * while no agent watched are not lost). A set, not a list: ids waiting there are told once,
 * however many changes came, and it stays bounded while central Ferry is away.
 */
export function startAgentWatches(options: AgentWatchesOptions): AgentWatches {
  const { redis, keys, client, log } = options;
  const refreshMs = options.refreshMs ?? 5_000;
  const debounceMs = options.debounceMs ?? 250;
  const watches = new Map<string, ResourceWatch>();
  let byTarget = new Map<string, WatchedEnvironment[]>();
  const paths = new Map<string, string | undefined>();
  const pending = new Set<string>();
  let flushTimer: NodeJS.Timeout | undefined;
  let stopped = false;
  let first = true;

  const flush = () => {
    flushTimer = undefined;
    const ids = [...pending];
    pending.clear();
    if (ids.length === 0) return;
    redis.sadd(keys.changed, ...ids).catch((error: unknown) => {
      // Told again at the next change; a reconcile on the interval catches the rest.
      log.warn({ err: error, environments: ids.length }, "could not tell Ferry about watched changes");
    });
  };
  const tell = (environments: WatchedEnvironment[], why: string) => {
    if (environments.length === 0) return;
    for (const { data } of environments) pending.add(reconcileSchedulerId(data.repo, data.environment, data.cluster));
    log.info({ why, environments: environments.map((e) => e.data.environment) }, "watched change by another hand");
    flushTimer ??= setTimeout(flush, debounceMs);
  };

  /** The collection of objects of one type, found once (a type the API server does not serve has none). */
  const pathOf = async (type: AgentWatchEntry["types"][number]): Promise<string | undefined> => {
    const key = `${type.apiVersion}\n${type.kind}\n${type.namespace ?? ""}`;
    if (paths.has(key)) return paths.get(key);
    const path = await client.path(type).catch((error: unknown) => {
      if (error instanceof KubeApiError && error.status === 404) return undefined;
      throw error;
    });
    // Unknown types are looked up again next time: their CRD may come.
    if (path !== undefined) paths.set(key, path);
    return path;
  };

  const refresh = async () => {
    const entries = Object.values(await redis.hgetall(keys.watches));
    const watched: WatchedEnvironment[] = [];
    for (const text of entries) {
      const entry = JSON.parse(text) as AgentWatchEntry;
      const collections = new Set<string>();
      for (const type of entry.types) {
        const path = await pathOf(type);
        if (path !== undefined) collections.add(path);
      }
      watched.push({ data: entry.data, inventory: entry.inventory, collections: [...collections] });
    }
    if (stopped) return;
    const { targets, environments } = watchTargets(watched);
    byTarget = environments;
    // A (re)started agent cannot know what changed while it was away: every watched environment is checked once.
    if (first) tell(watched, "agent started");
    first = false;
    const wanted = new Set(targets.map((t) => t.id));
    for (const [id, watch] of watches) {
      if (wanted.has(id)) continue;
      watches.delete(id);
      await watch.stop();
      log.info({ path: watch.path }, "stopped watching");
    }
    for (const target of targets) {
      if (watches.has(target.id)) continue;
      const watch = new ResourceWatch({
        client,
        path: target.path,
        labelSelector: target.labelSelector,
        log,
        onChange: (event: WatchEvent) => {
          if (changedOnlyByFerry(event)) return;
          const owner = ownerOf(event);
          const meta = event.object.metadata;
          tell(
            (byTarget.get(target.id) ?? []).filter((e) => e.inventory === owner),
            `${event.type} ${meta?.namespace ?? ""}/${meta?.name ?? ""}`,
          );
        },
        onResync: () => tell(byTarget.get(target.id) ?? [], "watch restarted"),
      });
      watches.set(target.id, watch);
      watch.start();
      log.info({ path: target.path }, "watching");
    }
  };

  let running: Promise<void> = Promise.resolve();
  const refreshOnce = () =>
    (running = running.then(refresh).catch((error: unknown) => {
      log.warn({ err: error }, "could not read what to watch; trying again");
    }));
  void refreshOnce();
  const timer = setInterval(() => void refreshOnce(), refreshMs);
  timer.unref();
  return {
    refresh: refreshOnce,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
      if (flushTimer !== undefined) clearTimeout(flushTimer);
      await Promise.all([...watches.values()].map((w) => w.stop()));
      watches.clear();
    },
  };
}
