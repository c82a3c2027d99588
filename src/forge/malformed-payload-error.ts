import type { z } from "zod";

/** A webhook whose payload lacks fields Ferry needs; the intake answers 400. */
export class MalformedPayloadError extends Error {
  /** Builds the error from the schema's complaint. */
  constructor(message: string) {
    super(message);
    this.name = "MalformedPayloadError";
  }
}

/**
 * The payload as `schema` reads it, or a MalformedPayloadError naming the event (`what`) and the
 * first field the schema refused, e.g. `pull_request.closed payload: pull_request: Required`.
 */
export function parsePayload<S extends z.ZodType>(schema: S, payload: unknown, what: string): z.output<S> {
  const result = schema.safeParse(payload);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new MalformedPayloadError(
      `${what} payload: ${issue ? `${issue.path.join(".") || "(top level)"}: ${issue.message}` : "invalid"}`,
    );
  }
  return result.data;
}
