/** Fields the API server fills in or keeps for itself: they change without anyone changing the object. */
const SERVER_METADATA = [
  "managedFields",
  "resourceVersion",
  "uid",
  "generation",
  "creationTimestamp",
  "selfLink",
  "deletionTimestamp",
];

/** kubectl's copy of the whole object: noise in a diff, and for a Secret it holds the values. */
const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A deep copy with keys in sorted order, so equal objects serialise to equal text. Undefined values are dropped, as JSON drops them. */
function sortedCopy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedCopy);
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const child = value[key];
    if (child !== undefined) out[key] = sortedCopy(child);
  }
  return out;
}

/**
 * The part of an object a person changes: a sorted deep copy without `status`, the metadata the
 * server keeps for itself, kubectl's last-applied annotation, and label or annotation maps left empty.
 */
export function normalizeObject(object: Record<string, unknown>): Record<string, unknown> {
  const copy = sortedCopy(object) as Record<string, unknown>;
  delete copy.status;
  const metadata = copy.metadata;
  if (isPlainObject(metadata)) {
    for (const field of SERVER_METADATA) delete metadata[field];
    if (isPlainObject(metadata.annotations)) delete metadata.annotations[LAST_APPLIED];
    for (const field of ["annotations", "labels"]) {
      const map = metadata[field];
      if (isPlainObject(map) && Object.keys(map).length === 0) delete metadata[field];
    }
  }
  return copy;
}
