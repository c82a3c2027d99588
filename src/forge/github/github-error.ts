import { STATUS_CODES } from "node:http";
import { FerryError, permanent, transient } from "../../errors.js";
import { errorText, field, numberField, stringField } from "../untyped-fields.js";

/**
 * Turns a failed GitHub call into a FerryError whose message says what Ferry was doing, e.g.
 * `GitHub: setting status ferry/deploy/staging on abc1234: 422 Validation Failed`.
 *
 * Transient: network errors, 5xx, 429, and 403s that are rate limits (`x-ratelimit-remaining: 0`,
 * `Retry-After`, or a "rate limit" message); any other 4xx is permanent. The message holds only the
 * status and GitHub's own message, never request headers, so no token can leak into it.
 */
export function githubError(error: unknown, doing: string): FerryError {
  if (error instanceof FerryError) return error;
  const status = numberField(error, "status");
  const response = field(error, "response");
  if (status === undefined || response === undefined) {
    // No HTTP answer: fetch failed (Octokit reports it as status 500 with a request but no response) or was aborted.
    const what = field(error, "request") === undefined && status === undefined ? "failed" : "network error";
    return transient(`GitHub: ${doing}: ${what}: ${errorText(error)}`, { cause: error });
  }
  const headers = field(response, "headers");
  const message = responseMessage(field(response, "data"), status);
  const text = `GitHub: ${doing}: ${status} ${message}`;
  const rateLimited =
    status === 429 ||
    (status === 403 &&
      (stringField(headers, "x-ratelimit-remaining") === "0" ||
        stringField(headers, "retry-after") !== undefined ||
        /rate limit/i.test(message)));
  return status >= 500 || rateLimited ? transient(text, { cause: error }) : permanent(text, { cause: error });
}

/** The HTTP status of a failed Octokit request, or undefined when it is no HTTP error. */
export function githubStatus(error: unknown): number | undefined {
  return field(error, "response") === undefined ? undefined : numberField(error, "status");
}

/** GitHub's `message`, followed by the validation errors' own messages when it sends them. */
function responseMessage(data: unknown, status: number): string {
  const message = stringField(data, "message") ?? STATUS_CODES[status] ?? "Error";
  const errors = field(data, "errors");
  const details = Array.isArray(errors)
    ? errors
        .map((e: unknown) => (typeof e === "string" ? e : (stringField(e, "message") ?? stringField(e, "code"))))
        .filter((d) => d !== undefined)
    : [];
  return details.length > 0 ? `${message}: ${details.join("; ")}` : message;
}
