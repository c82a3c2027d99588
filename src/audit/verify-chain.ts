import type { AuditLog, ChainEnds, RawAuditEntry } from "./audit-log.js";
import { auditRecordSchema, type AuditRecord } from "./audit-record.js";
import { describeScope, type AuditScope } from "./audit-scope.js";
import { compareStreamIds } from "./compare-stream-ids.js";
import { recordHash } from "./record-hash.js";

/** Something wrong with one record of a chain, or with its end. */
export interface ChainProblem {
  /** The record's stream id; the chain's head for a problem at its end. */
  id: string;
  message: string;
}

/** What checking one scope's chain found. */
export interface ChainVerdict {
  scope: AuditScope;
  /** Records checked. */
  records: number;
  /** The hash the chain ends at: worth keeping outside Redis, to detect a whole chain rewritten. */
  head: string;
  problems: ChainProblem[];
}

/**
 * Checks one scope's chain record by record, oldest first: each record is a valid record of the
 * scope, its hash is the hash of its content (else it was edited), its `prevHash` is the previous
 * record's hash (else a record was removed, inserted or reordered before it), its id is newer than
 * the previous one. `start` is the hash the first record must follow (the anchor retention left, or
 * `""` for a chain never trimmed); undefined trusts the first record's (an export's slice of a chain).
 */
export class ChainVerifier {
  private expected: string | undefined;
  private lastId: string | undefined;
  private count = 0;
  private readonly problems: ChainProblem[] = [];

  /** A verifier of `scope`'s chain, whose first record follows `start` (undefined: any) and comes after `afterId`. */
  constructor(
    private readonly scope: AuditScope,
    start: string | undefined,
    afterId?: string,
  ) {
    this.expected = start;
    this.lastId = afterId;
  }

  /** Checks the next record; returns it parsed, or undefined when it is not a valid record. */
  add(entry: RawAuditEntry): AuditRecord | undefined {
    this.count++;
    const problem = (message: string) => this.problems.push({ id: entry.id, message });
    if (this.lastId !== undefined && compareStreamIds(entry.id, this.lastId) <= 0)
      problem(`comes after ${this.lastId} in the chain but is not newer`);
    this.lastId = entry.id;
    const record = parseRecord(entry.text);
    if (typeof record === "string") problem(`not a valid audit record: ${record}`);
    else {
      const { forge, repository, environment } = record;
      if (forge !== this.scope.forge || repository !== this.scope.repository || environment !== this.scope.environment)
        problem(`is a record of ${describeScope({ forge, repository, environment })}, not of this environment`);
      if (this.expected !== undefined && record.prevHash !== this.expected)
        problem(
          `does not follow the record before it (its prevHash is ${short(record.prevHash)}, the previous hash is ` +
            `${short(this.expected)}): a record before it was removed, inserted or edited`,
        );
      if (recordHash(record) !== entry.hash)
        problem(`its content does not match its hash ${short(entry.hash)}: the record was edited`);
    }
    // Carry on from the stored hash, so one edited record is reported once, not at every record after it.
    this.expected = entry.hash;
    return typeof record === "string" ? undefined : record;
  }

  /** The verdict, checking the chain ends where `head` says (undefined: where the last record ends it). */
  finish(head?: string): ChainVerdict {
    const end = this.expected ?? "";
    if (head !== undefined && head !== end)
      this.problems.push({
        id: this.lastId ?? "(none)",
        message:
          `the chain's head is ${short(head)} but its last record hashes to ${short(end)}: ` +
          `records after ${this.lastId ?? "the anchor"} were removed`,
      });
    return { scope: this.scope, records: this.count, head: head ?? end, problems: this.problems };
  }
}

/**
 * Checks a scope's stored chain from its anchor (or its start) to its head. Records appended after
 * the head was read are left for the next check; when the chain's ends moved while it was read (a
 * trim by retention, an append racing the read), it is read again, so a busy chain never reads as broken.
 */
export async function verifyStoredChain(log: AuditLog, scope: AuditScope): Promise<ChainVerdict> {
  let verdict: ChainVerdict | undefined;
  for (let tries = 0; tries < 3; tries++) {
    const ends = await log.chainEnds(scope);
    const verifier = new ChainVerifier(scope, ends.anchor ?? "", ends.anchorId);
    let reachedHead = false;
    let pastHead: string | undefined;
    for await (const entry of log.entries(scope)) {
      if (reachedHead) {
        pastHead = entry.id;
        break;
      }
      verifier.add(entry);
      reachedHead = entry.hash === ends.head;
    }
    verdict = verifier.finish(ends.head ?? "");
    if (pastHead !== undefined)
      verdict.problems.push({ id: pastHead, message: "comes after the chain's head: it was not appended by Ferry" });
    if (verdict.problems.length === 0 || sameEnds(ends, await log.chainEnds(scope))) return verdict;
  }
  return verdict as ChainVerdict;
}

function sameEnds(a: ChainEnds, b: ChainEnds): boolean {
  return a.head === b.head && a.anchor === b.anchor && a.anchorId === b.anchorId;
}

/** The record in `text`, or why it is not one. */
function parseRecord(text: string): AuditRecord | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  const parsed = auditRecordSchema.safeParse(value);
  return parsed.success ? parsed.data : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
}

/** The first 12 characters of a hash; `(none)` for the empty hash of a chain's start. */
function short(hash: string): string {
  return hash === "" ? "(none)" : hash.slice(0, 12);
}
