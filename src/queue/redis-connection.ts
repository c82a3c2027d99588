import { Cluster, Redis, type RedisOptions } from "ioredis";
import { permanent } from "../errors.js";
import { MAX_QUEUE_GROUPS, QueueLayout } from "./queue-layout.js";

/** A connection to Redis: one server (direct or through Sentinel) or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/** A Redis node's address. */
export interface RedisNode {
  /** Host name or IP address. */
  host: string;
  /** TCP port. */
  port: number;
}

/** Credentials and TLS for Sentinel and Cluster targets (a URL carries its own). */
export interface RedisAuth {
  /** ACL user name (Redis 6+). */
  username?: string;
  /** Password of the Redis nodes. */
  password?: string;
  /** Password of the Sentinels themselves, when they require one. */
  sentinelPassword?: string;
  /** Connect with TLS (to the nodes, and to the Sentinels). */
  tls?: boolean;
}

/** Where Redis is: one server by URL, the primary a set of Sentinels names, or a Redis Cluster. */
export type RedisTarget =
  | { kind: "url"; url: string; auth?: RedisAuth }
  | { kind: "sentinel"; sentinels: RedisNode[]; name: string; auth?: RedisAuth }
  | {
      kind: "cluster";
      nodes: RedisNode[];
      auth?: RedisAuth;
      /** How many groups Ferry's queues are spread over (default {@link DEFAULT_QUEUE_GROUPS}). */
      queueGroups?: number;
    };

/**
 * Queue groups on a Redis Cluster unless `REDIS_QUEUE_GROUPS` says otherwise: spread evenly over
 * 1, 2, 3 or 6 masters, at six blocking connections per group and worker process.
 */
export const DEFAULT_QUEUE_GROUPS = 6;

/**
 * Opens an ioredis connection as BullMQ wants it (`maxRetriesPerRequest: null`, so workers block
 * and reconnect forever) from a `redis://` URL.
 */
export function connectRedis(url: string, options: RedisOptions = {}): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, ...options });
  // Errors surface through the commands that fail; an unhandled "error" event would crash the process.
  redis.on("error", () => undefined);
  return redis;
}

/**
 * Opens a connection to `target` with the same defaults as {@link connectRedis}; `options` apply to
 * every node (for a Cluster, `enableOfflineQueue` and `retryStrategy` apply to the cluster client as well).
 */
export function openRedis(target: RedisTarget, options: RedisOptions = {}): RedisClient {
  const auth = authOptions(target.auth);
  switch (target.kind) {
    case "url":
      // ioredis lets the URL's own username and password win over these.
      return connectRedis(target.url, { ...auth, ...options });
    case "sentinel": {
      const sentinelTls = target.auth?.tls ? { sentinelTLS: {}, enableTLSForSentinelMode: true } : {};
      const redis = new Redis({
        sentinels: target.sentinels,
        name: target.name,
        ...(target.auth?.sentinelPassword !== undefined ? { sentinelPassword: target.auth.sentinelPassword } : {}),
        ...sentinelTls,
        maxRetriesPerRequest: null,
        enableReadyCheck: true,
        ...auth,
        ...options,
      });
      redis.on("error", () => undefined);
      return redis;
    }
    case "cluster": {
      const cluster = new Cluster(target.nodes, {
        redisOptions: { maxRetriesPerRequest: null, ...auth, ...options },
        ...(options.enableOfflineQueue !== undefined ? { enableOfflineQueue: options.enableOfflineQueue } : {}),
        // The cluster client reconnects as a whole when every node is lost: paced as each node is.
        ...(options.retryStrategy !== undefined ? { clusterRetryStrategy: options.retryStrategy } : {}),
        enableReadyCheck: true,
      });
      cluster.on("error", () => undefined);
      return cluster;
    }
  }
}

/**
 * Where Ferry's queues live on `target`: on a Cluster, groups of queues under hash-tag prefixes
 * spread over the slots (see {@link QueueLayout}); elsewhere one group under BullMQ's default prefix.
 */
export function queueLayout(target: RedisTarget): QueueLayout {
  return target.kind === "cluster"
    ? QueueLayout.cluster(target.queueGroups ?? DEFAULT_QUEUE_GROUPS)
    : QueueLayout.single();
}

/** Where `target` points, for logs: hosts and names, never credentials. */
export function describeRedis(target: RedisTarget): string {
  const hosts = (nodes: RedisNode[]) => nodes.map((n) => `${n.host}:${n.port}`).join(",");
  switch (target.kind) {
    case "url": {
      const url = new URL(target.url);
      return `${url.protocol}//${url.host}${url.pathname === "/" ? "" : url.pathname}`;
    }
    case "sentinel":
      return `sentinel ${hosts(target.sentinels)} (primary ${target.name})`;
    case "cluster":
      return `cluster ${hosts(target.nodes)}`;
  }
}

/**
 * The Redis the environment names, or undefined for none (Ferry then starts an embedded one):
 * `REDIS_URL`; or `REDIS_SENTINELS=host:port,...` with `REDIS_SENTINEL_NAME` (default `mymaster`);
 * or `REDIS_CLUSTER_NODES=host:port,...`, with `REDIS_QUEUE_GROUPS` (how many groups the queues are
 * spread over; default {@link DEFAULT_QUEUE_GROUPS}). `REDIS_USERNAME`, `REDIS_PASSWORD`,
 * `REDIS_SENTINEL_PASSWORD` and `REDIS_TLS=true` add credentials and TLS (a URL's own win).
 */
export function redisTargetFromEnv(env: NodeJS.ProcessEnv): RedisTarget | undefined {
  const given = (["REDIS_URL", "REDIS_SENTINELS", "REDIS_CLUSTER_NODES"] as const).filter(
    (name) => nonEmpty(env[name]) !== undefined,
  );
  if (given.length > 1) throw permanent(`set only one of ${given.join(", ")}: each names a whole Redis deployment`);
  const nodes = nonEmpty(env.REDIS_CLUSTER_NODES);
  const groups = nonEmpty(env.REDIS_QUEUE_GROUPS);
  if (groups !== undefined && nodes === undefined)
    throw permanent(
      "REDIS_QUEUE_GROUPS spreads queues over a Redis Cluster's shards and needs REDIS_CLUSTER_NODES: one Redis server holds every key itself",
    );
  const auth: RedisAuth = {};
  const username = nonEmpty(env.REDIS_USERNAME);
  const password = nonEmpty(env.REDIS_PASSWORD);
  const sentinelPassword = nonEmpty(env.REDIS_SENTINEL_PASSWORD);
  if (username !== undefined) auth.username = username;
  if (password !== undefined) auth.password = password;
  if (sentinelPassword !== undefined) auth.sentinelPassword = sentinelPassword;
  if (env.REDIS_TLS !== undefined && env.REDIS_TLS !== "") {
    if (!/^(true|false)$/.test(env.REDIS_TLS))
      throw permanent(`REDIS_TLS must be true or false, not "${env.REDIS_TLS}"`);
    auth.tls = env.REDIS_TLS === "true";
  }
  const url = nonEmpty(env.REDIS_URL);
  if (url !== undefined) {
    if (!/^rediss?:\/\//.test(url)) throw permanent("REDIS_URL must start with redis:// or rediss://");
    return { kind: "url", url, auth };
  }
  const sentinels = nonEmpty(env.REDIS_SENTINELS);
  if (sentinels !== undefined)
    return {
      kind: "sentinel",
      sentinels: parseNodes("REDIS_SENTINELS", sentinels, 26379),
      name: nonEmpty(env.REDIS_SENTINEL_NAME) ?? "mymaster",
      auth,
    };
  if (nodes === undefined) return undefined;
  const target: Extract<RedisTarget, { kind: "cluster" }> = {
    kind: "cluster",
    nodes: parseNodes("REDIS_CLUSTER_NODES", nodes, 6379),
    auth,
  };
  if (groups !== undefined) {
    const count = Number(groups);
    if (!/^\d+$/.test(groups) || count < 1 || count > MAX_QUEUE_GROUPS)
      throw permanent(`REDIS_QUEUE_GROUPS must be a whole number from 1 to ${MAX_QUEUE_GROUPS}, not "${groups}"`);
    target.queueGroups = count;
  }
  return target;
}

/** `host:port,host,[::1]:port` as nodes, with `defaultPort` where none is given. */
function parseNodes(variable: string, text: string, defaultPort: number): RedisNode[] {
  return text.split(",").map((item) => {
    const match = /^\s*(\[[^\]]+\]|[^:\s]+)(?::(\d+))?\s*$/.exec(item);
    const port = match?.[2] === undefined ? defaultPort : Number(match[2]);
    if (!match?.[1] || port < 1 || port > 65535) throw permanent(`${variable}: "${item.trim()}" is not host:port`);
    return { host: match[1].replace(/^\[(.*)\]$/, "$1"), port };
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

function authOptions(auth: RedisAuth | undefined): RedisOptions {
  return {
    ...(auth?.username !== undefined ? { username: auth.username } : {}),
    ...(auth?.password !== undefined ? { password: auth.password } : {}),
    ...(auth?.tls ? { tls: {} } : {}),
  };
}

/** True when Redis answers PING within `timeoutMs`. */
export async function redisIsUp(redis: RedisClient, timeoutMs = 1000): Promise<boolean> {
  if (redis.status !== "ready") return false;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  try {
    return await Promise.race([redis.ping().then((r) => r === "PONG"), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
