import { createHash, randomBytes } from "node:crypto";
import { Cluster, type Redis } from "ioredis";
import type { RedisClient } from "../queue/redis-connection.js";
import type { AgentKeys } from "./agent-keys.js";

/**
 * Every command an agent sends to Redis, and nothing more: what BullMQ's worker sends itself
 * (blocking for a job, reading it, its Lua scripts by EVALSHA, or EVAL when Redis lost them),
 * the data commands those scripts call (Redis checks them against the user too), the agent's
 * heartbeat and cancel reads, and on a Redis Cluster what ioredis's Cluster client sends to find
 * its way (CLUSTER SLOTS for the slot map, CLUSTER INFO for its ready check, ASKING after an ASK
 * redirect during a reshard, READONLY and READWRITE on replica connections); those name no key
 * and reveal only the cluster's layout. No SCAN, KEYS, RANDOMKEY or INFO: their answers are not
 * limited by key patterns. Read from BullMQ 5's worker and its `commands/*.lua`, and ioredis 5's
 * `cluster/` (see agent-acl.test.ts).
 */
export const AGENT_COMMANDS: readonly string[] = [
  // Connection.
  "ping",
  "quit",
  // ioredis's Cluster client: the slot map, its ready check, redirects and replica connections.
  "cluster|slots",
  "cluster|info",
  "asking",
  "readonly",
  "readwrite",
  // BullMQ's worker names its connections.
  "client|setname",
  // BullMQ's worker, outside scripts.
  "bzpopmin",
  "evalsha",
  "eval",
  "multi",
  "exec",
  "discard",
  // Inside BullMQ's scripts: strings, keys, hashes, lists, sets, sorted sets, streams.
  "get",
  "set",
  "incr",
  "del",
  "exists",
  "type",
  "rename",
  "persist",
  "pexpire",
  "pttl",
  "hget",
  "hset",
  "hmget",
  "hmset",
  "hdel",
  "hexists",
  "hgetall",
  "hincrby",
  "hlen",
  "lindex",
  "llen",
  "lpop",
  "lpos",
  "lpush",
  "lrange",
  "lrem",
  "lset",
  "ltrim",
  "rpop",
  "rpoplpush",
  "rpush",
  "sadd",
  "scard",
  "sismember",
  "smembers",
  "srem",
  "xadd",
  "xtrim",
  "zadd",
  "zcard",
  "zcount",
  "zpopmin",
  "zrange",
  "zrangebyscore",
  "zrem",
  "zremrangebyrank",
  "zremrangebyscore",
  "zrevrange",
  "zrevrangebyscore",
  "zscore",
];

/** A new agent secret: 32 random bytes, base64url (no character an ACL rule or a URL needs escaped). */
export function newAgentSecret(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * The `ACL SETUSER` arguments that make (or reset) an agent's Redis user: on, with only the
 * SHA-256 of `secret` (the rule never holds the secret itself), only its own keys, no Pub/Sub
 * channels and only {@link AGENT_COMMANDS}. Redis does not share ACLs between nodes: on a Redis
 * Cluster the rule goes on every node (see {@link applyAgentAcl}). `reset` first, so running it again with a new secret
 * rotates it: the old one no longer logs in (connections already in stay until
 * {@link agentKillArgs} ends them).
 */
export function agentAclArgs(keys: AgentKeys, secret: string): string[] {
  const hash = createHash("sha256").update(secret).digest("hex");
  return [
    "SETUSER",
    keys.user,
    "reset",
    "on",
    `#${hash}`,
    `~${keys.pattern}`,
    "resetchannels",
    "-@all",
    ...AGENT_COMMANDS.map((c) => `+${c}`),
  ];
}

/** `CLIENT KILL USER <agent>`'s arguments: ends the connections logged in with an agent's old secret. */
export function agentKillArgs(keys: AgentKeys): string[] {
  return ["KILL", "USER", keys.user];
}

/** `ACL SETUSER …` as a line for redis-cli or an ACL file's `user …` line. */
export function aclLine(args: readonly string[]): string {
  return `ACL ${args.join(" ")}`;
}

/**
 * Runs an agent's `ACL SETUSER` and then `CLIENT KILL USER` (ending connections logged in with an
 * older secret) where the agent may connect: on one Redis server, or on every node of a Redis
 * Cluster (Redis keeps ACLs per node, so a node without the rule would refuse the agent, or, with
 * an older rule, still let in a rotated secret). Returns how many nodes took the rule.
 */
export async function applyAgentAcl(redis: RedisClient, keys: AgentKeys, secret: string): Promise<number> {
  const acl = agentAclArgs(keys, secret);
  const kill = agentKillArgs(keys);
  const nodes = redis instanceof Cluster ? await clusterNodes(redis) : [redis];
  for (const node of nodes) {
    await node.call("ACL", ...acl);
    await node.call("CLIENT", ...kill);
  }
  return nodes.length;
}

/** How long `--apply` waits for a Redis Cluster's slot map before it gives up. */
const CLUSTER_READY_MS = 15_000;

/** Every node of a Redis Cluster, primaries and replicas, once the client has its slot map. */
async function clusterNodes(cluster: Cluster): Promise<Redis[]> {
  if (cluster.status !== "ready")
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the Redis Cluster was not ready within ${CLUSTER_READY_MS / 1000}s`)),
        CLUSTER_READY_MS,
      );
      cluster.once("ready", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  const nodes = cluster.nodes("all");
  if (nodes.length === 0) throw new Error("the Redis Cluster named no node");
  return nodes;
}
