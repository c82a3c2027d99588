/** Whether retrying can help: transient errors (network, 5xx, 429, conflicts) retry with backoff; permanent ones fail at once. */
export type ErrorKind = "permanent" | "transient";

/** An error with a kind and a message a user can act on; what Ferry reports on statuses and comments. */
export class FerryError extends Error {
  /** Builds an error of the given kind. */
  constructor(
    readonly kind: ErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "FerryError";
  }
}

/** A permanent error: bad config, invalid manifest, policy violation. Retrying will not help. */
export function permanent(message: string, options?: { cause?: unknown }): FerryError {
  return new FerryError("permanent", message, options);
}

/** A transient error: network, 5xx, 429, conflicts. Retry with backoff. */
export function transient(message: string, options?: { cause?: unknown }): FerryError {
  return new FerryError("transient", message, options);
}

/** True when `error` is a FerryError that retrying cannot fix. */
export function isPermanent(error: unknown): boolean {
  return error instanceof FerryError && error.kind === "permanent";
}
