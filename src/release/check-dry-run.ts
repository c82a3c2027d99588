import { unsupportedDryRun, type Environment } from "../config/ferry-config.js";
import { throwIfRefused, type RefusedObject } from "../kube/apply.js";
import type { DesiredObject } from "../kube/desired-object.js";
import { dryRunUnsupportedBy } from "../kube/dry-run-unsupported.js";

/** An object the server would not dry-run, and the admission webhook that declares side effects on its kind. */
export interface SkippedDryRun {
  object: DesiredObject;
  webhook: string;
}

/**
 * Judges a dry-run's refusals for `env`. An object refused only because an admission webhook on its
 * kind does not support dry run (`sideEffects: Some` or `Unknown`) was not validated at all: with
 * `validation.unsupportedDryRun: skip` it is returned, to be applied without a dry-run; with the
 * default `fail` it is an error naming the webhook and the setting. Every other refusal is thrown as
 * before, first; one permanent error names them all, `what` (e.g. "nothing was applied") closing it.
 */
export function checkDryRun(
  env: Pick<Environment, "name" | "validation">,
  refused: RefusedObject[],
  what: string,
): SkippedDryRun[] {
  const invalid: RefusedObject[] = [];
  const skipped: SkippedDryRun[] = [];
  for (const r of refused) {
    const webhook = dryRunUnsupportedBy(r);
    if (webhook === undefined) invalid.push(r);
    else skipped.push({ object: r.object, webhook });
  }
  if (unsupportedDryRun(env) === "skip" || skipped.length === 0) {
    throwIfRefused(invalid, what);
    return skipped;
  }
  const unvalidated = skipped.map(({ object, webhook }): RefusedObject => ({
    object,
    status: 400,
    reason: "BadRequest",
    message: `admission webhook "${webhook}" does not support dry run (its sideEffects is Some or Unknown), so the server could not validate this object`,
  }));
  throwIfRefused(
    [...invalid, ...unvalidated],
    `${what}; to apply objects such a webhook guards without a dry-run, set validation: { unsupportedDryRun: skip } on environment ${env.name}`,
  );
  return [];
}
