import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { RedisClient } from "../queue/redis-connection.js";
import { AUDIT_RECORD_VERSION, auditRecordSchema, type AuditEntry, type AuditRecord } from "./audit-record.js";
import {
  AUDIT_INDEX_KEY,
  auditChainKey,
  auditStreamKey,
  parseScopeMember,
  scopeMember,
  type AuditScope,
} from "./audit-scope.js";
import { canonicalJson } from "./canonical-json.js";
import { recordHash } from "./record-hash.js";

/** A record as Redis holds it: its stream id (`<ms>-<seq>`, the time it was written), its hash, and its JSON text. */
export interface RawAuditEntry {
  id: string;
  hash: string;
  text: string;
}

/** Where a scope's chain ends: the newest record's hash, and the hash (and id) of the last record retention removed. */
export interface ChainEnds {
  head?: string;
  anchor?: string;
  anchorId?: string;
}

/** A record written, with its stream id and hash. */
export interface AppendedRecord {
  id: string;
  hash: string;
  record: AuditRecord;
}

/** Which records to read: written at or after `sinceMs` and at or before `untilMs` (epoch ms). */
export interface TimeRange {
  sinceMs?: number;
  untilMs?: number;
}

/** Options of {@link AuditLog}. */
export interface AuditLogOptions {
  /** How long records are kept (the server config's `audit.retention`). */
  retentionMs: number;
  /** The clock retention is measured on (tests move it). */
  now?: () => number;
}

/** The longest `reason` a record keeps; longer ones are cut, so one record stays small. */
const MAX_REASON = 2_000;
/** How many times an append re-reads the head after another writer moved it. */
const MAX_APPEND_TRIES = 100;
/** Records read from Redis per request. */
const PAGE = 500;

/**
 * Removes a scope's records older than ARGV[1] (a stream id), first keeping the hash and id of the
 * newest one removed as the chain's anchor, in the same atomic step, so verify checks from there.
 */
const TRIM_LUA = `
local function trim(stream, chain, minId)
  local older = redis.call('XREVRANGE', stream, '(' .. minId, '-', 'COUNT', 1)
  if #older == 0 then return 0 end
  local fields = older[1][2]
  local hash = ''
  for i = 1, #fields, 2 do
    if fields[i] == 'h' then hash = fields[i + 1] end
  end
  redis.call('HSET', chain, 'anchor', hash, 'anchorId', older[1][1])
  return redis.call('XTRIM', stream, 'MINID', minId)
end
`;

/**
 * Appends a record only while the chain's head is still ARGV[1], the hash the record was chained to:
 * two writers that read the same head cannot both append, so the chain never forks (the loser reads
 * the new head and tries again). Returns {1, id} or {0, head}. Then trims what retention dropped.
 */
const APPEND_LUA = `${TRIM_LUA}
local head = redis.call('HGET', KEYS[2], 'head') or ''
if head ~= ARGV[1] then return {0, head} end
local id = redis.call('XADD', KEYS[1], '*', 'r', ARGV[3], 'h', ARGV[2])
redis.call('HSET', KEYS[2], 'head', ARGV[2])
trim(KEYS[1], KEYS[2], ARGV[4])
return {1, id}
`;

const TRIM_ONLY_LUA = `${TRIM_LUA}
return trim(KEYS[1], KEYS[2], ARGV[1])
`;

/** Each script's SHA-1, as EVALSHA names it. */
const SCRIPT_SHA: ReadonlyMap<string, string> = new Map(
  [APPEND_LUA, TRIM_ONLY_LUA].map((lua) => [lua, createHash("sha1").update(lua).digest("hex")]),
);

/**
 * The audit trail in Redis: one stream per scope (an environment of a repository), append-only and
 * hash-chained (each record carries the hash of the scope's previous one), a hash per scope with the
 * chain's head and anchor, and a set indexing every scope. Records older than the retention are
 * trimmed on append and by {@link trimAll}; the last trimmed record's hash is kept as the anchor.
 */
export class AuditLog {
  private readonly now: () => number;
  /** The append in flight per scope in this process: appends queue behind it, so only other processes race. */
  private readonly tails = new Map<string, Promise<unknown>>();
  /** The head each scope had after this process's last append to it: the next append's guess (a wrong one costs a retry). */
  private readonly heads = new Map<string, string>();

  /** An audit log on `redis`, keeping records for `options.retentionMs`. */
  constructor(
    private readonly redis: RedisClient,
    private readonly options: AuditLogOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Appends a record to its scope's chain, atomically against every other writer; returns it with
   * its id and hash. Appends of one scope in this process go one at a time (a fleet's clusters end
   * together), so the atomic compare-and-append races only other processes.
   */
  append(entry: AuditEntry): Promise<AppendedRecord> {
    const member = scopeMember({ forge: entry.forge, repository: entry.repository, environment: entry.environment });
    const appended = (this.tails.get(member) ?? Promise.resolve()).then(() => this.appendNow(entry));
    const tail = appended.catch(() => undefined);
    this.tails.set(member, tail);
    void tail.then(() => {
      if (this.tails.get(member) === tail) this.tails.delete(member);
    });
    return appended;
  }

  private async appendNow(entry: AuditEntry): Promise<AppendedRecord> {
    const scope: AuditScope = { forge: entry.forge, repository: entry.repository, environment: entry.environment };
    const stream = auditStreamKey(scope);
    const chain = auditChainKey(scope);
    const reason =
      entry.reason !== undefined && entry.reason.length > MAX_REASON
        ? `${entry.reason.slice(0, MAX_REASON - 1)}…`
        : entry.reason;
    const member = scopeMember(scope);
    let head = this.heads.get(member);
    if (head === undefined) {
      // Indexed first: a scope without records is harmless, records in no scope would escape export and verify.
      await this.redis.sadd(AUDIT_INDEX_KEY, member);
      head = (await this.redis.hget(chain, "head")) ?? "";
    }
    for (let tries = 0; tries < MAX_APPEND_TRIES; tries++) {
      const record = auditRecordSchema.parse({
        ...entry,
        ...(reason === undefined ? {} : { reason }),
        v: AUDIT_RECORD_VERSION,
        prevHash: head,
      });
      const hash = recordHash(record);
      const [written, value] = (await this.script(
        APPEND_LUA,
        [stream, chain],
        [head, hash, canonicalJson(record), this.minId()],
      )) as [number, string];
      if (written === 1) {
        this.heads.set(member, hash);
        return { id: value, hash, record };
      }
      head = value;
      // The guess was stale: another process appended, or Redis lost the chain (a restore), and maybe the index too.
      if (tries === 0) await this.redis.sadd(AUDIT_INDEX_KEY, member);
      // Another process appended first: back off a little, at random, so racing writers spread out
      // (not on the first miss, which may only mean this process's guess of the head was stale).
      if (tries > 0) await sleep(Math.random() * Math.min(50, 2 ** tries));
    }
    this.heads.delete(member);
    throw new Error(`the audit chain of ${member} kept moving: ${MAX_APPEND_TRIES} appends lost the race`);
  }

  /** Every scope that has (or had) records. */
  async scopes(): Promise<AuditScope[]> {
    const members = await this.redis.smembers(AUDIT_INDEX_KEY);
    return members
      .map(parseScopeMember)
      .filter((s): s is AuditScope => s !== undefined)
      .sort((a, b) => scopeMember(a).localeCompare(scopeMember(b)));
  }

  /** A scope's chain ends. */
  async chainEnds(scope: AuditScope): Promise<ChainEnds> {
    const [head, anchor, anchorId] = await this.redis.hmget(auditChainKey(scope), "head", "anchor", "anchorId");
    return {
      ...(head === null ? {} : { head }),
      ...(anchor === null ? {} : { anchor }),
      ...(anchorId === null ? {} : { anchorId }),
    };
  }

  /** A scope's records written within `range`, oldest first, read page by page. */
  async *entries(scope: AuditScope, range: TimeRange = {}): AsyncGenerator<RawAuditEntry> {
    const stream = auditStreamKey(scope);
    const end = range.untilMs === undefined ? "+" : String(Math.floor(range.untilMs));
    let start = range.sinceMs === undefined ? "-" : String(Math.ceil(range.sinceMs));
    for (;;) {
      const page = await this.redis.xrange(stream, start, end, "COUNT", PAGE);
      for (const [id, fields] of page) yield { id, ...entryFields(fields) };
      const last = page.at(-1);
      if (last === undefined || page.length < PAGE) return;
      start = `(${last[0]}`;
    }
  }

  /**
   * A scope's newest records, newest first (at most `count`); with `beforeId`, those written before
   * that record (a page of history further back).
   */
  async newest(scope: AuditScope, count: number, beforeId?: string): Promise<RawAuditEntry[]> {
    const end = beforeId === undefined ? "+" : `(${beforeId}`;
    const page = await this.redis.xrevrange(auditStreamKey(scope), end, "-", "COUNT", count);
    return page.map(([id, fields]) => ({ id, ...entryFields(fields) }));
  }

  /** Removes a scope's records older than the retention (keeping the anchor); how many were removed. */
  async trim(scope: AuditScope): Promise<number> {
    return (await this.script(TRIM_ONLY_LUA, [auditStreamKey(scope), auditChainKey(scope)], [this.minId()])) as number;
  }

  /** Trims every scope: environments that write nothing new lose their old records too. How many were removed. */
  async trimAll(): Promise<number> {
    let removed = 0;
    for (const scope of await this.scopes()) removed += await this.trim(scope);
    return removed;
  }

  /** Runs a script by its SHA-1, sending its text only when Redis does not know it yet (after a restart). */
  private async script(lua: string, keys: string[], args: string[]): Promise<unknown> {
    const sha = SCRIPT_SHA.get(lua) ?? "";
    try {
      return await this.redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return this.redis.eval(lua, keys.length, ...keys, ...args);
    }
  }

  /** The oldest stream id retention keeps. */
  private minId(): string {
    return `${Math.max(0, Math.floor(this.now() - this.options.retentionMs))}-0`;
  }
}

/** The record text and hash of a stream entry's fields (`r`, `h`); empty when missing, which verify reports. */
function entryFields(fields: string[]): { hash: string; text: string } {
  let hash = "";
  let text = "";
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === "h") hash = fields[i + 1] ?? "";
    if (fields[i] === "r") text = fields[i + 1] ?? "";
  }
  return { hash, text };
}
