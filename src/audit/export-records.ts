import { z } from "zod";
import type { AuditLog, TimeRange } from "./audit-log.js";
import { auditRecordSchema, type AuditRecord } from "./audit-record.js";
import type { AuditScope } from "./audit-scope.js";
import { canonicalJson } from "./canonical-json.js";
import { ChainVerifier, type ChainVerdict } from "./verify-chain.js";

/** Which scopes a command reads: all, or those of a repository (on a forge) and environment. */
export interface ScopeFilter {
  forge?: AuditScope["forge"];
  repository?: string;
  environment?: string;
}

/** One line of an export: the record's stream id (`<ms>-<seq>`, when it was written), its hash and the record. */
export const exportedRecordSchema = z.strictObject({
  id: z.string().regex(/^\d+-\d+$/),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  record: auditRecordSchema,
});

/** One line of an export, parsed. */
export type ExportedRecord = z.output<typeof exportedRecordSchema>;

/** True when `scope` is one `filter` asks for. */
export function matchesScope(scope: AuditScope, filter: ScopeFilter): boolean {
  return (
    (filter.forge === undefined || scope.forge === filter.forge) &&
    (filter.repository === undefined || scope.repository === filter.repository) &&
    (filter.environment === undefined || scope.environment === filter.environment)
  );
}

/**
 * The records `filter` and `range` select as JSON Lines, one record per line, environment by
 * environment in chain order: each line holds the record exactly as it was hashed, with its hash, so
 * an archive can be checked without Ferry's Redis (see {@link verifyExport}). A record Redis holds
 * that is not valid is exported as it is (`record` then fails the schema) rather than left out.
 */
export async function* exportLines(log: AuditLog, filter: ScopeFilter, range: TimeRange): AsyncGenerator<string> {
  for (const scope of await log.scopes()) {
    if (!matchesScope(scope, filter)) continue;
    for await (const entry of log.entries(scope, range)) {
      let record: unknown;
      try {
        record = JSON.parse(entry.text);
      } catch {
        record = entry.text;
      }
      yield canonicalJson({ id: entry.id, hash: entry.hash, record });
    }
  }
}

/**
 * Checks an export: every line is a record whose hash is its content's, and within each environment
 * every record follows the one before it. The first record of each environment is taken as it is
 * (an export is a slice of the chain, whose earlier records are in an earlier archive). Returns a
 * verdict per environment; a line that is not an exported record is a problem of the scope `*`.
 */
export function verifyExport(lines: Iterable<string>): ChainVerdict[] {
  const verifiers = new Map<string, ChainVerifier>();
  const unreadable = new ChainVerifier({ forge: "github", repository: "*", environment: "*" }, undefined);
  let bad = 0;
  let n = 0;
  for (const line of lines) {
    n++;
    if (line.trim() === "") continue;
    const parsed = parseLine(line);
    if (parsed === undefined) {
      bad++;
      unreadable.add({ id: `line ${n}`, hash: "", text: line });
      continue;
    }
    const scope = scopeOfRecord(parsed.record);
    const key = JSON.stringify(scope);
    let verifier = verifiers.get(key);
    if (verifier === undefined) verifiers.set(key, (verifier = new ChainVerifier(scope, undefined)));
    verifier.add({ id: parsed.id, hash: parsed.hash, text: canonicalJson(parsed.record) });
  }
  const verdicts = [...verifiers.values()].map((v) => v.finish());
  return bad > 0 ? [...verdicts, unreadable.finish()] : verdicts;
}

function parseLine(line: string): ExportedRecord | undefined {
  try {
    const parsed = exportedRecordSchema.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function scopeOfRecord(record: AuditRecord): AuditScope {
  return { forge: record.forge, repository: record.repository, environment: record.environment };
}
