import { isPermanent } from "../errors.js";
import type { Attempt } from "./release-deps.js";

/** Whether a job's failure ends it for good: a permanent error, or any error on the last attempt. */
export function gaveUp(error: unknown, attempt: Attempt): boolean {
  return isPermanent(error) || attempt.number >= attempt.of;
}

/** A failure's message as statuses, comments and logs give it: saying so when the retries were spent on it. */
export function failureMessage(error: unknown, attempt: Attempt): string {
  const message = error instanceof Error ? error.message : String(error);
  return isPermanent(error) || attempt.number < attempt.of
    ? message
    : `gave up after ${attempt.of} attempts: ${message}`;
}
