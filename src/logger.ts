import pino, { type DestinationStream, type Logger } from "pino";

/** Fields pino must never print: tokens, keys and Secret payloads. */
const REDACT = [
  "token", "*.token", "privateKey", "*.privateKey", "secret", "*.secret", "password", "*.password",
  "headers.authorization", "*.headers.authorization", "data", "*.data", "stringData", "*.stringData",
];

/**
 * Log lines are written to stdout in chunks of about this many bytes (pino's asynchronous logging),
 * so a burst of webhooks costs one write per chunk rather than one per line; pino flushes what is
 * left when the process exits.
 */
const LOG_CHUNK = 4096;
/** How long a line may wait for its chunk to fill when little is logged, in ms. */
const LOG_FLUSH_MS = 100;

/** Creates Ferry's logger: JSON lines (as Probot logs), pretty when stdout is a terminal. */
export function createLogger(options: { level?: string; pretty?: boolean; destination?: DestinationStream } = {}): Logger {
  const pretty = options.destination === undefined && (options.pretty ?? (process.stdout.isTTY === true && process.env.LOG_FORMAT !== "json"));
  const settings = {
    level: options.level ?? process.env.LOG_LEVEL ?? "info",
    base: { name: "ferry" },
    redact: { paths: REDACT, censor: "[redacted]" },
    ...(pretty ? { transport: { target: "pino-pretty", options: { colorize: true } } } : {}),
  };
  if (pretty) return pino(settings);
  return pino(settings, options.destination ?? pino.destination({ dest: 1, sync: false, minLength: LOG_CHUNK, periodicFlush: LOG_FLUSH_MS }));
}
