import type { ForgeKind } from "../domain/repo.js";

/** One chain of audit records: an environment of a repository on a forge (`*`: the repository as a whole). */
export interface AuditScope {
  forge: ForgeKind;
  repository: string;
  environment: string;
}

/** The Redis set naming every scope that has records, for export and verify across all of them. */
export const AUDIT_INDEX_KEY = "ferry:audit:environments";

/**
 * The hash tag every key of a scope shares (`{github:acme/shop:staging}`), so a Redis Cluster keeps a
 * scope's stream and chain in one slot and the append script may touch both.
 */
function tag(scope: AuditScope): string {
  return `{${scope.forge}:${scope.repository}:${scope.environment}}`;
}

/** The stream of a scope's records, oldest first. */
export function auditStreamKey(scope: AuditScope): string {
  return `ferry:audit:${tag(scope)}`;
}

/** The hash holding a scope's chain ends: `head` (the newest record's hash) and, once trimmed, `anchor` (the hash of the last record removed). */
export function auditChainKey(scope: AuditScope): string {
  return `ferry:audit:${tag(scope)}:chain`;
}

/** A scope as a member of {@link AUDIT_INDEX_KEY}: JSON, since repository paths hold slashes and colons may appear. */
export function scopeMember(scope: AuditScope): string {
  return JSON.stringify([scope.forge, scope.repository, scope.environment]);
}

/** The scope a member of {@link AUDIT_INDEX_KEY} names; undefined for a member Ferry did not write. */
export function parseScopeMember(member: string): AuditScope | undefined {
  try {
    const parsed: unknown = JSON.parse(member);
    if (!Array.isArray(parsed) || parsed.length !== 3) return undefined;
    const [forge, repository, environment] = parsed as unknown[];
    if ((forge !== "github" && forge !== "gitlab") || typeof repository !== "string" || typeof environment !== "string")
      return undefined;
    return { forge, repository, environment };
  } catch {
    return undefined;
  }
}

/** How people name a scope: `github acme/shop staging`. */
export function describeScope(scope: AuditScope): string {
  return `${scope.forge} ${scope.repository} ${scope.environment}`;
}
