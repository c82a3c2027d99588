import type { RefusedObject } from "./apply.js";

/**
 * The API server's refusal of a dry-run that matches an admission webhook declaring side effects
 * (`sideEffects: Some` or `Unknown`): a 400 whose message is exactly this (apiserver's
 * `webhookerrors.NewDryRunUnsupportedErr`). The server refuses before calling the webhook, so the
 * object was not judged at all.
 */
const UNSUPPORTED = /^admission webhook "([^"]+)" does not support dry run$/;

/** The admission webhook that kept the server from dry-running an object, or undefined for any other refusal. */
export function dryRunUnsupportedBy(refused: Pick<RefusedObject, "status" | "message">): string | undefined {
  if (refused.status !== 400) return undefined;
  return UNSUPPORTED.exec(refused.message)?.[1];
}
