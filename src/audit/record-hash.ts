import { createHash } from "node:crypto";
import type { AuditRecord } from "./audit-record.js";
import { canonicalJson } from "./canonical-json.js";

/** A record's hash: SHA-256 (hex) of its canonical JSON, `prevHash` included, so each hash covers the whole chain before it. */
export function recordHash(record: AuditRecord): string {
  return createHash("sha256").update(canonicalJson(record)).digest("hex");
}
