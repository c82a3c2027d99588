import { canonicalJson, type FieldPath } from "./field-path.js";
import { sameQuantity } from "./same-quantity.js";

/**
 * Maps whose values are resource quantities (container `requests` and `limits`, a ResourceQuota's
 * `hard`, a LimitRange's `max`, `min`, `default`, …), and fields that are one. Only there may two
 * different strings be equal: `1k` and `1000` in a ConfigMap are different values.
 */
const QUANTITY_MAPS = new Set([
  "requests",
  "limits",
  "hard",
  "used",
  "capacity",
  "allocatable",
  "overhead",
  "max",
  "min",
  "default",
  "defaultRequest",
  "maxLimitRequestRatio",
]);
const QUANTITY_FIELDS = new Set(["sizeLimit"]);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isQuantityField(path: FieldPath): boolean {
  const last = path.at(-1);
  const parent = path.at(-2);
  if (!last || !("field" in last)) return false;
  return (
    QUANTITY_FIELDS.has(last.field) || (parent !== undefined && "field" in parent && QUANTITY_MAPS.has(parent.field))
  );
}

/** Values the API server leaves out when it writes an object (Go's `omitempty`): absent in live means the same. */
function isEmpty(value: unknown): boolean {
  if (value === null || value === "" || value === 0 || value === false) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (isPlainObject(value)) return Object.values(value).every(isEmpty);
  return false;
}

/**
 * Whether a live value is what the desired value becomes once the API server has stored it: maps
 * are compared by the desired keys only (the server adds defaults), an absent live field equals an
 * empty desired one, a number written where the server keeps a string (`cpu: 1`, an int-or-string)
 * equals its text, and resource quantities compare by amount (`0.5` and `500m`). `live` is
 * undefined when the field is absent.
 */
export function sameValue(desired: unknown, live: unknown, path: FieldPath): boolean {
  if (desired === null || desired === undefined) return true;
  if (live === undefined || live === null) return isEmpty(desired);
  if (isPlainObject(desired)) {
    if (!isPlainObject(live)) return false;
    return Object.entries(desired).every(([name, value]) =>
      sameValue(value, Object.hasOwn(live, name) ? live[name] : undefined, [...path, { field: name }]),
    );
  }
  if (Array.isArray(desired)) {
    if (!Array.isArray(live) || live.length !== desired.length) return false;
    return desired.every((value, index) => sameValue(value, live[index], [...path, { index }]));
  }
  if (desired === live) return true;
  if (typeof desired === "number" && typeof live === "string")
    return String(desired) === live || sameQuantity(desired, live);
  if (typeof desired === "string" && typeof live === "string" && isQuantityField(path))
    return sameQuantity(desired, live);
  return canonicalJson(desired) === canonicalJson(live);
}
