/** A webhook body read as JSON: its value, or `valid: false` when it is not JSON. */
export type JsonBody = { valid: true; value: unknown } | { valid: false };

/**
 * A delivery's body as intake holds it: the exact text the forge sent (what a signature covers) and
 * its reading as JSON, parsed on first use and then kept, so neither an intake that needs the
 * payload to authenticate (GitLab: the project's secret) nor the parser after it parses it twice.
 */
export interface DeliveryBody {
  /** The body exactly as received, as UTF-8 text. */
  readonly text: string;
  /** The body read as JSON; parsed once, on the first call. */
  json(): JsonBody;
}

/** Wraps a delivery's body text, parsing it as JSON only when asked. */
export function deliveryBody(text: string): DeliveryBody {
  let json: JsonBody | undefined;
  return { text, json: () => (json ??= readJsonBody(text)) };
}

/** Parses a webhook body as JSON without throwing. */
export function readJsonBody(text: string): JsonBody {
  try {
    return { valid: true, value: JSON.parse(text) as unknown };
  } catch {
    return { valid: false };
  }
}
