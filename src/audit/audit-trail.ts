import type { Logger } from "pino";
import type { Metrics } from "../metrics/metrics.js";
import type { AuditEntry } from "./audit-record.js";

/** Where jobs write audit records. */
export interface AuditSink {
  /** Appends a record to its environment's chain. */
  append(entry: AuditEntry): Promise<unknown>;
}

/**
 * What jobs record their actions through. Recording never fails the action it records: a release
 * that is done stays done when Redis refuses its record. The failure is logged at error level, with
 * the record, and counted (`ferry_audit_write_failures_total`), so an alert says the trail has a gap.
 */
export class AuditTrail {
  /** A trail writing to `sink`, logging and counting what it could not write. */
  constructor(
    private readonly sink: AuditSink,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
  ) {}

  /** Records `entry`; resolves once it was written, or once its failure was logged and counted. */
  async record(entry: AuditEntry): Promise<void> {
    try {
      await this.sink.append(entry);
    } catch (error) {
      this.log.error(
        { err: error, audit: entry },
        `audit record not written (${entry.action} of ${entry.repository} ${entry.environment}): ${(error as Error).message}`,
      );
      this.metrics?.auditWriteFailed(entry.action);
    }
  }
}
