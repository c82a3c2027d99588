import { STATUS_CODES } from "node:http";
import { FerryError, permanent, transient } from "../../errors.js";
import { errorText, field, numberField } from "../untyped-fields.js";

/**
 * Turns a failed GitLab call into a FerryError whose message says what Ferry was doing, e.g.
 * `GitLab: setting status ferry/deploy/staging on abc1234: 400 Cannot transition status via :run from :running`.
 *
 * Transient: no HTTP answer (network error, timeout), gitbeaker giving up after its own retries of
 * 429 and 502, and any 5xx or 429; every other 4xx is permanent. The message holds only the status
 * and GitLab's own message, never request headers, so the token cannot leak into it.
 */
export function gitlabError(error: unknown, doing: string): FerryError {
  if (error instanceof FerryError) return error;
  const status = gitlabStatus(error);
  if (status === undefined) {
    // GitbeakerRetryError (429/502 retried out), GitbeakerTimeoutError, or fetch's own network TypeError.
    return transient(`GitLab: ${doing}: ${networkText(error)}`, { cause: error });
  }
  const text = `GitLab: ${doing}: ${status} ${gitlabMessage(error) ?? STATUS_CODES[status] ?? "Error"}`;
  return status >= 500 || status === 429 ? transient(text, { cause: error }) : permanent(text, { cause: error });
}

/** The HTTP status of a failed gitbeaker request (a GitbeakerRequestError), or undefined when GitLab gave no answer. */
export function gitlabStatus(error: unknown): number | undefined {
  return numberField(field(field(error, "cause"), "response"), "status");
}

/**
 * GitLab's message for a failed request, readable: gitbeaker passes on `message` or `error` from the
 * body (validation errors as JSON, which this flattens to `note is too long …`), and GitLab repeats
 * the status in it (`404 Project Not Found`), which this drops.
 */
export function gitlabMessage(error: unknown): string | undefined {
  const status = gitlabStatus(error);
  const description = field(field(error, "cause"), "description");
  if (typeof description !== "string" || description.trim() === "") return undefined;
  const text = flattenValidation(description.trim());
  return status !== undefined && text.startsWith(`${status} `) ? text.slice(`${status} `.length) : text;
}

/** `{"note":["is too long"]}` as `note is too long`; any other text as it is. */
function flattenValidation(text: string): string {
  if (!text.startsWith("{")) return text;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== "object" || parsed === null) return text;
    const parts = Object.entries(parsed).flatMap(([name, problems]) =>
      (Array.isArray(problems) ? problems : [problems]).map((problem) => `${name} ${String(problem)}`),
    );
    return parts.length > 0 ? parts.join("; ") : text;
  } catch {
    return text;
  }
}

/** What went wrong when no usable answer came: gitbeaker giving up after its retries, or a network failure with its cause. */
function networkText(error: unknown): string {
  if (field(error, "name") === "GitbeakerRetryError") return errorText(error);
  const cause = field(error, "cause");
  const detail = cause instanceof Error && cause.message !== "" ? ` (${cause.message})` : "";
  return `network error: ${errorText(error)}${detail}`;
}
