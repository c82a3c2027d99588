/** Limits every renderer binary runs under. */
export interface ToolLimits {
  /** Longest one render may take; default 60 s. A render that hangs is killed and fails the release. */
  timeoutMs?: number;
  /** Most bytes one render may write; default 64 MiB. */
  maxOutputBytes?: number;
}

/** The default time limit of one render, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 60_000;

/** The default output cap of one render, in bytes. */
export const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024 * 1024;
