import { HIDDEN_VALUE, holdsSecret, maskText } from "../sops/secret-values.js";
import type { PlanObject } from "./mask-secret.js";

/**
 * Masks decrypted values wherever they sit in an object pair (live, next), not only in Secrets:
 * every string of either side has each form of `forms` replaced by `(hidden)`, and a live string
 * at a path where the next object holds a decrypted value is hidden whole unless it equals the
 * next string (so an old value of a rotated secret, which Ferry cannot know, is not shown either).
 * Keys are left as they are; with no forms the pair comes back untouched.
 */
export function maskValuePair(
  live: PlanObject | undefined,
  next: PlanObject | undefined,
  forms: readonly string[],
): [PlanObject | undefined, PlanObject | undefined] {
  if (forms.length === 0) return [live, next];
  const maskedNext = next === undefined ? undefined : (maskTree(next, undefined, forms) as PlanObject);
  const maskedLive = live === undefined ? undefined : (maskTree(live, next, forms) as PlanObject);
  return [maskedLive, maskedNext];
}

/** `value` masked; `counterpart` is the next object's value at the same path, when masking the live side. */
function maskTree(value: unknown, counterpart: unknown, forms: readonly string[]): unknown {
  if (typeof value === "string") {
    if (typeof counterpart === "string" && counterpart !== value && holdsSecret(counterpart, forms))
      return HIDDEN_VALUE;
    return maskText(value, forms);
  }
  if (Array.isArray(value))
    return value.map((item, i) => maskTree(item, Array.isArray(counterpart) ? counterpart[i] : undefined, forms));
  if (typeof value === "object" && value !== null) {
    const other =
      typeof counterpart === "object" && counterpart !== null ? (counterpart as Record<string, unknown>) : {};
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, maskTree(item, other[key], forms)]));
  }
  return value;
}
