import { createHash, randomBytes } from "node:crypto";
import type { AgentKeys } from "./agent-keys.js";

/**
 * Every command an agent sends to Redis, and nothing more: what BullMQ's worker sends itself
 * (blocking for a job, reading it, its Lua scripts by EVALSHA, or EVAL when Redis lost them),
 * the data commands those scripts call (Redis checks them against the user too), and the agent's
 * heartbeat and cancel reads. No SCAN, KEYS, RANDOMKEY or INFO: their answers are not limited by
 * key patterns. Read from BullMQ 5's worker and its `commands/*.lua` (see agent-acl.test.ts).
 */
export const AGENT_COMMANDS: readonly string[] = [
  // Connection.
  "ping",
  "quit",
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
 * channels and only {@link AGENT_COMMANDS}. `reset` first, so running it again with a new secret
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
