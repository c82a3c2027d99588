import { createHash } from "node:crypto";
import type { Logger } from "pino";
import type { KubeClient, WatchEvent } from "../kube/kube-client.js";
import { INVENTORY_ANNOTATION, MANAGED_BY_LABEL } from "../kube/labels.js";
import type { Metrics } from "../metrics/metrics.js";
import type { ReconcileJobData } from "../queue/reconcile-request.js";
import type { RedisClient } from "../queue/redis-connection.js";
import { changedOnlyByFerry } from "./changed-only-by-ferry.js";
import { WatchSupervisor, type WatchTarget } from "./watch-supervisor.js";
import type { WatchedEnvironment, WatchRegistry } from "./watch-registry.js";
import type { WatchCaches } from "./watch-caches.js";

/** What the drift watch needs. */
export interface DriftWatchOptions {
  redis: RedisClient;
  registry: WatchRegistry;
  /** This process, as the watch leases name their holder. */
  owner: string;
  client(cluster: string): Promise<KubeClient>;
  /** Queues a reconcile of one environment on one cluster soon (debounced: many changes, one run). */
  reconcileSoon(data: ReconcileJobData): Promise<void>;
  log: Logger;
  metrics?: Metrics;
  /** See {@link WatchSupervisor}. */
  leaseMs?: number;
  /** Keep each watched collection's objects here, for this process's plans and reconciles. */
  caches?: WatchCaches;
}

/** Objects Ferry applies carry this label; only they are watched. */
const SELECTOR = `${MANAGED_BY_LABEL}=ferry`;

/**
 * Early drift detection (`reconcile.watch: true`): one watch per (cluster, collection) that any
 * watched environment has objects in — so per namespace and kind, however many objects or
 * environments share it — held by exactly one worker (WatchSupervisor). A change to an object (not
 * Ferry's own apply, not a status write) queues a reconcile of the environment that owns it, as
 * its owner annotation names it; a watch that had to start over queues one of every environment it
 * covers, since changes may have been missed.
 */
export function startDriftWatch(options: DriftWatchOptions): { stop(): Promise<void> } {
  const { log } = options;
  let byTarget = new Map<string, WatchedEnvironment[]>();
  const queue = (environments: WatchedEnvironment[], why: string) => {
    for (const { data } of environments) {
      options
        .reconcileSoon(data)
        .catch((error: unknown) =>
          log.warn(
            { err: error, repository: data.repo.fullName, environment: data.environment, cluster: data.cluster },
            `a watched change (${why}) could not queue a reconcile`,
          ),
        );
    }
  };
  const supervisor = new WatchSupervisor({
    redis: options.redis,
    owner: options.owner,
    log,
    ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
    ...(options.caches === undefined ? {} : { caches: options.caches }),
    client: (cluster) => options.client(cluster),
    targets: async () => {
      const { targets, environments } = watchTargets(await options.registry.all());
      byTarget = environments;
      return targets;
    },
    onChange: (target, event) => {
      if (changedOnlyByFerry(event)) return;
      const owner = ownerOf(event);
      queue(
        (byTarget.get(target.id) ?? []).filter((e) => e.inventory === owner),
        `${event.type} ${event.object.metadata?.namespace ?? ""}/${event.object.metadata?.name ?? ""}`,
      );
    },
    onResync: (target) => queue(byTarget.get(target.id) ?? [], "watch restarted"),
    onHeld: (count) => options.metrics?.watching(count),
  });
  supervisor.start();
  return { stop: () => supervisor.stop() };
}

/** The watches the watched environments need, and which environments each one covers. */
export function watchTargets(watched: WatchedEnvironment[]): {
  targets: WatchTarget[];
  environments: Map<string, WatchedEnvironment[]>;
} {
  const targets = new Map<string, WatchTarget>();
  const environments = new Map<string, WatchedEnvironment[]>();
  for (const env of watched) {
    for (const path of env.collections) {
      const id = createHash("sha256").update(`${env.data.cluster}\n${path}\n${SELECTOR}`).digest("hex").slice(0, 32);
      if (!targets.has(id)) targets.set(id, { id, cluster: env.data.cluster, path, labelSelector: SELECTOR });
      environments.set(id, [...(environments.get(id) ?? []), env]);
    }
  }
  return { targets: [...targets.values()], environments };
}

/** The inventory that owns the object of `event`, as its owner annotation names it. */
export function ownerOf(event: WatchEvent): string | undefined {
  const metadata = event.object.metadata as { annotations?: Record<string, string> } | undefined;
  return metadata?.annotations?.[INVENTORY_ANNOTATION];
}
