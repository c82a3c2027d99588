import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { AuditLog } from "../audit/audit-log.js";
import { describeScope } from "../audit/audit-scope.js";
import { exportLines, matchesScope, verifyExport, type ScopeFilter } from "../audit/export-records.js";
import { historyTable } from "../audit/history-table.js";
import { readHistory } from "../audit/read-history.js";
import { verifyStoredChain, type ChainVerdict } from "../audit/verify-chain.js";
import { durationMs } from "../config/duration.js";
import { DEFAULT_AUDIT_RETENTION } from "../config/server-config.js";
import { openRedis, redisTargetFromEnv, type RedisClient } from "../queue/redis-connection.js";

/** Options every audit command takes: which environments. */
export interface AuditScopeOptions {
  forge?: "github" | "gitlab";
  repo?: string;
  env?: string;
}

/** `ferry audit verify`'s options. */
export interface AuditVerifyOptions extends AuditScopeOptions {
  /** Check an export (JSON Lines; `-` for stdin) instead of Redis. */
  file?: string;
}

/** `ferry audit export`'s options. */
export interface AuditExportOptions extends AuditScopeOptions {
  since?: string;
  until?: string;
}

/** `ferry history`'s options. */
export interface HistoryOptions extends AuditScopeOptions {
  repo: string;
  limit: string;
  json?: boolean;
}

/** Where a command writes: stdout and stderr, apart so an export can be piped. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

const STDIO: Output = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/**
 * `ferry audit verify`: checks every environment's chain (or those named) from its anchor to its
 * head, printing one line per environment with its record count and head hash (keep them: a chain
 * rewritten whole, hashes and all, ends at another head), and each problem under it. Exit 0 when
 * every chain is intact, 1 when one is not, 2 on an error.
 */
export async function auditVerify(opts: AuditVerifyOptions, io: Output = STDIO): Promise<number> {
  let verdicts: ChainVerdict[];
  if (opts.file !== undefined) {
    verdicts = verifyExport(await readLines(opts.file)).filter(
      (v) => v.scope.repository === "*" || matchesScope(v.scope, filterOf(opts)),
    );
  } else {
    verdicts = await withAuditLog(async (log) => {
      const found: ChainVerdict[] = [];
      for (const scope of await log.scopes())
        if (matchesScope(scope, filterOf(opts))) found.push(await verifyStoredChain(log, scope));
      return found;
    });
  }
  let broken = 0;
  let records = 0;
  for (const verdict of verdicts) {
    records += verdict.records;
    const ok = verdict.problems.length === 0;
    if (!ok) broken++;
    const head = verdict.head === "" ? "(empty)" : verdict.head;
    io.out(`${ok ? "ok    " : "BROKEN"}  ${describeScope(verdict.scope)}: ${verdict.records} records, head ${head}\n`);
    for (const problem of verdict.problems) io.out(`        ${problem.id}: ${problem.message}\n`);
  }
  io.out(
    broken === 0
      ? `${verdicts.length} environments, ${records} records: every chain is intact\n`
      : `${broken} of ${verdicts.length} environments have a broken chain\n`,
  );
  return broken === 0 ? 0 : 1;
}

/** `ferry audit export`: the records written between --since and --until as JSON Lines on stdout. */
export async function auditExport(opts: AuditExportOptions, io: Output = STDIO): Promise<number> {
  const now = Date.now();
  const range = {
    ...(opts.since === undefined ? {} : { sinceMs: parseTime("--since", opts.since, now) }),
    ...(opts.until === undefined ? {} : { untilMs: parseTime("--until", opts.until, now) }),
  };
  await withAuditLog(async (log) => {
    for await (const line of exportLines(log, filterOf(opts), range)) io.out(`${line}\n`);
  });
  return 0;
}

/** `ferry history --repo R [--env E]`: the newest records of a repository's environments, as a table or JSON Lines. */
export async function history(opts: HistoryOptions, io: Output = STDIO): Promise<number> {
  const limit = Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1)
    throw new Error(`--limit must be a positive whole number, not "${opts.limit}"`);
  const records = await withAuditLog((log) => readHistory(log, filterOf(opts), limit));
  if (opts.json) for (const record of records) io.out(`${JSON.stringify(record)}\n`);
  else if (records.length === 0) io.err(`no audit records of ${opts.repo}${opts.env ? ` ${opts.env}` : ""}\n`);
  else io.out(`${historyTable(records)}\n`);
  return 0;
}

/**
 * A time as --since and --until take it: ISO 8601 (`2026-01-31`, `2026-01-31T12:00:00Z`), or a
 * duration before now (`30d`, `12h`).
 */
export function parseTime(option: string, text: string, now: number): number {
  if (/^(?=\d)(\d+d)?(\d+h)?(\d+m)?(\d+s)?$/.test(text)) return now - durationMs(text);
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(ms))
    throw new Error(
      `${option} must be a date (2026-01-31, 2026-01-31T12:00:00Z) or a time ago (30d, 12h), not "${text}"`,
    );
  return ms;
}

function filterOf(opts: AuditScopeOptions): ScopeFilter {
  return {
    ...(opts.forge === undefined ? {} : { forge: opts.forge }),
    ...(opts.repo === undefined ? {} : { repository: opts.repo }),
    ...(opts.env === undefined ? {} : { environment: opts.env }),
  };
}

/** Runs `use` on the audit log of the Redis the environment names (as the server roles find it), then disconnects. */
async function withAuditLog<T>(use: (log: AuditLog) => Promise<T>): Promise<T> {
  const target = redisTargetFromEnv(process.env);
  if (target === undefined)
    throw new Error(
      "set REDIS_URL (or REDIS_SENTINELS, REDIS_CLUSTER_NODES) to the Redis Ferry uses: the audit trail lives there",
    );
  // Fail instead of waiting forever when Redis is away.
  const redis: RedisClient = openRedis(target, { maxRetriesPerRequest: 1, connectTimeout: 5_000 });
  try {
    // Reading never trims: the retention only matters to writers.
    return await use(new AuditLog(redis, { retentionMs: durationMs(DEFAULT_AUDIT_RETENTION) }));
  } finally {
    redis.disconnect();
  }
}

async function readLines(file: string): Promise<string[]> {
  const input = file === "-" ? process.stdin : createReadStream(file, "utf8");
  const lines: string[] = [];
  for await (const line of createInterface({ input, crlfDelay: Infinity })) lines.push(line);
  return lines;
}
