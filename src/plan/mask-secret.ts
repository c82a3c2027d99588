/** An object as a plan compares it: rendered from the repository, read live, or returned by a dry-run. */
export type PlanObject = Record<string, unknown>;

/** kubectl's copy of the whole object, which for a Secret holds every value. */
const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

/** What a masked value says about its key, and nothing about the value. */
const HIDDEN = "(hidden)";
const CHANGED = "(hidden, changed)";
const ADDED = "(hidden, added)";
const REMOVED = "(hidden, removed)";

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isSecret(object: PlanObject | undefined): object is PlanObject {
  return object?.kind === "Secret";
}

/** `data` values as canonical base64, so a value written with line breaks still equals the server's copy. */
function canonicalData(value: unknown): string {
  if (typeof value !== "string") return `json:${JSON.stringify(value) ?? ""}`;
  const stripped = value.replace(/\s+/g, "");
  const canonical = Buffer.from(stripped, "base64").toString("base64");
  return canonical === stripped ? canonical : `raw:${value}`;
}

/** `stringData` values as the base64 the server will store them as. */
function canonicalString(value: unknown): string {
  return typeof value === "string"
    ? Buffer.from(value, "utf8").toString("base64")
    : `json:${JSON.stringify(value) ?? ""}`;
}

/** Each key of a Secret with a fingerprint of its value; `stringData` wins over `data`, as it does on the server. */
function fingerprints(object: PlanObject | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!isSecret(object)) return out;
  if (isPlainObject(object.data))
    for (const [key, value] of Object.entries(object.data)) out.set(key, canonicalData(value));
  if (isPlainObject(object.stringData))
    for (const [key, value] of Object.entries(object.stringData)) out.set(key, canonicalString(value));
  return out;
}

/** The Secret with `data` holding markers, `stringData` merged in, and kubectl's copy of the values removed. */
function masked(object: PlanObject, markers: Map<string, string>): PlanObject {
  const copy: PlanObject = { ...object };
  delete copy.stringData;
  if (markers.size > 0 || "data" in object) {
    const data: Record<string, string> = {};
    for (const key of [...markers.keys()].sort()) data[key] = markers.get(key) ?? HIDDEN;
    copy.data = data;
  }
  if (
    isPlainObject(copy.metadata) &&
    isPlainObject(copy.metadata.annotations) &&
    LAST_APPLIED in copy.metadata.annotations
  ) {
    const annotations = { ...copy.metadata.annotations };
    delete annotations[LAST_APPLIED];
    copy.metadata = { ...copy.metadata, annotations };
  }
  return copy;
}

/**
 * Replaces every value of a Secret pair (live, next) with a marker that says only whether its key
 * was kept, changed, added or removed; `stringData` is compared by its base64 and merged into `data`
 * so the diff is per key. Objects that are not Secrets come back untouched.
 */
export function maskSecretPair(live?: PlanObject, next?: PlanObject): [PlanObject | undefined, PlanObject | undefined] {
  if (!isSecret(live) && !isSecret(next)) return [live, next];
  const before = fingerprints(live);
  const after = fingerprints(next);
  const liveMarkers = new Map<string, string>();
  const nextMarkers = new Map<string, string>();
  for (const [key, value] of before) {
    const other = after.get(key);
    liveMarkers.set(key, other === undefined ? REMOVED : HIDDEN);
    if (other !== undefined) nextMarkers.set(key, other === value ? HIDDEN : CHANGED);
  }
  for (const key of after.keys()) if (!before.has(key)) nextMarkers.set(key, ADDED);
  return [isSecret(live) ? masked(live, liveMarkers) : live, isSecret(next) ? masked(next, nextMarkers) : next];
}
