import type { Logger } from "pino";
import type { AuditLog } from "./audit-log.js";

/** How often a worker trims every environment's records past the retention. */
export const AUDIT_TRIM_EVERY_MS = 3_600_000;

/**
 * Trims every environment's audit records past the retention now and then every hour, so an
 * environment that writes nothing new loses its old records too (appends trim their own chain).
 * Every worker does it; trimming is idempotent. Returns the function that stops it.
 */
export function keepAuditRetention(
  log: Pick<AuditLog, "trimAll">,
  logger: Logger,
  everyMs = AUDIT_TRIM_EVERY_MS,
): () => Promise<void> {
  let running: Promise<void> = Promise.resolve();
  const trim = () => {
    running = log.trimAll().then(
      (removed) => {
        if (removed > 0) logger.info({ removed }, "audit records past the retention removed");
      },
      (error: unknown) => logger.warn({ err: error }, "could not trim the audit records past the retention"),
    );
  };
  trim();
  const timer = setInterval(trim, everyMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
