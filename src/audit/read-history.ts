import type { AuditLog } from "./audit-log.js";
import { compareStreamIds } from "./compare-stream-ids.js";
import { auditRecordSchema, type AuditRecord } from "./audit-record.js";
import { matchesScope, type ScopeFilter } from "./export-records.js";

/**
 * The newest `limit` records of the environments `filter` selects, newest first (by when they were
 * written), read from the end of each environment's chain; records that are not valid are skipped
 * (`ferry audit verify` reports them).
 */
export async function readHistory(log: AuditLog, filter: ScopeFilter, limit: number): Promise<AuditRecord[]> {
  const rows: Array<{ id: string; record: AuditRecord }> = [];
  for (const scope of await log.scopes()) {
    if (!matchesScope(scope, filter)) continue;
    for (const entry of await log.newest(scope, limit)) {
      let record: AuditRecord | undefined;
      try {
        record = auditRecordSchema.parse(JSON.parse(entry.text));
      } catch {
        continue;
      }
      rows.push({ id: entry.id, record });
    }
  }
  return rows
    .sort((a, b) => compareStreamIds(b.id, a.id))
    .slice(0, limit)
    .map((row) => row.record);
}
