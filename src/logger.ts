import pino, { type DestinationStream, type Logger } from "pino";

/** Fields pino must never print: tokens, keys and Secret payloads. */
const REDACT = [
  "token",
  "*.token",
  "privateKey",
  "*.privateKey",
  "secret",
  "*.secret",
  "password",
  "*.password",
  "headers.authorization",
  "*.headers.authorization",
  "data",
  "*.data",
  "stringData",
  "*.stringData",
];

/** Creates Ferry's logger: JSON lines (as Probot logs), pretty when stdout is a terminal. */
export function createLogger(
  options: { level?: string; pretty?: boolean; destination?: DestinationStream } = {},
): Logger {
  const pretty =
    options.destination === undefined &&
    (options.pretty ?? (process.stdout.isTTY === true && process.env.LOG_FORMAT !== "json"));
  const settings = {
    level: options.level ?? process.env.LOG_LEVEL ?? "info",
    base: { name: "ferry" },
    redact: { paths: REDACT, censor: "[redacted]" },
    ...(pretty ? { transport: { target: "pino-pretty", options: { colorize: true } } } : {}),
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
