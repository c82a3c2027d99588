/**
 * Drift: which fields Ferry manages no longer hold what Ferry applied, and who changed them.
 *
 * Ownership comes first. Ferry applies with server-side apply, so after a release the object's
 * managedFields say that Ferry (manager `ferry`, operation `Apply`) owns every field its manifest
 * sets. A later write that changes one of those fields moves it out of Ferry's set: an Update
 * (`kubectl edit`, patch, scale, set, label, client-side apply, a controller) takes the fields whose
 * values it changed, and another applier takes them only by forcing a conflict (applying the same
 * value merely shares them). So a field Ferry still owns holds what Ferry's own write left there:
 * when it reads differently from the manifest (`cpu: 0.5` stored as `500m`, a port keyed with a
 * defaulted `protocol`, an admission webhook's change to Ferry's request, a Secret's `stringData`
 * stored as `data`), the server did it and re-applying would do it again, so it is never drift.
 *
 * A field the manifest sets that Ferry no longer owns was written by someone else. It is drift when
 * its live value differs from the manifest's, compared as the server stores values (see
 * `sameValue`); the managedFields entry that owns it now names the manager, operation and time. A
 * field back at Ferry's value under another owner (edited away and back) is not drift. Removed
 * fields have no owner left, so their manager is unknown. Fields the manifest does not set are never
 * looked at: replicas an autoscaler sets, defaults, status, injected containers, others' labels.
 *
 * Flux and Argo CD reach the same verdicts with a server-side dry-run apply, whose answer carries
 * the server's defaulting and normalisation (Argo CD then drops what other managers' webhooks added
 * by keeping only the fields its own manager owns in the answer). Reading managedFields gives the
 * same without a request per object and also says who made each change. An object whose
 * managedFields were reset (the server then tracks nothing until the next apply) falls back to the
 * value comparison for every field.
 */
import { INVENTORY_ANNOTATION, DRIFT_ANNOTATION, FIELD_MANAGER } from "../kube/labels.js";
import { maskSecretPair } from "../plan/mask-secret.js";
import { HIDDEN_VALUE, holdsSecret, maskText } from "../sops/secret-values.js";
import type { KubeObject } from "../render/types.js";
import { canonicalJson, fieldPathId, formatFieldPath, type FieldPath } from "./field-path.js";
import { readManagedFields, type ManagedFieldsEntry } from "./managed-fields.js";
import type { FieldSet } from "./parse-fields-v1.js";
import { sameValue } from "./same-value.js";
import { showValue } from "./show-value.js";
import type { Drift, DriftedField } from "./types.js";
import { walkPath } from "./walk-path.js";

/** What `detectDrift` needs to know besides the two objects. */
export interface DetectDriftOptions {
  /** The inventory the object belongs to (`namespace/name`, the value of Ferry's owner annotation). */
  inventory: string;
  /** Ferry's field manager; `ferry` unless told. */
  fieldManager?: string;
  /** Forms of SOPS-decrypted values the object holds (`DesiredObject.secrets`): never shown, nor a live value where one belongs. */
  secrets?: readonly string[];
}

/** Metadata the server sets or that names the object: never compared. */
const SERVER_METADATA = [
  "name",
  "namespace",
  "generateName",
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "managedFields",
  "selfLink",
];

/** What a masked Secret value reads as; shown bare, not as JSON. */
const MASKED = /^\(hidden(, (added|changed|removed))?\)$/;

/** A value found at a path, wrapped so that `null` is told apart from absent (undefined). */
type Slot = { value: unknown } | undefined;

/** A field that drifted, before it is shown. */
interface Finding {
  path: FieldPath;
  desired: unknown;
  live: Slot;
}

/** How a list's items are told apart, as managedFields record it. */
type ListShape = { kind: "map"; keys: string[] } | { kind: "set" } | { kind: "index" } | { kind: "atomic" };

/** What the walk over one object knows of its managers. */
interface Owners {
  /** Every entry, to learn how lists are keyed. */
  entries: ManagedFieldsEntry[];
  /** The sets Ferry applied (manager `ferry`, operation `Apply`). */
  ferry: FieldSet[];
  /** Everyone else's entries. */
  others: ManagedFieldsEntry[];
  /** `data` keys of a Secret that Ferry's managedFields name by their `stringData` path. */
  aliases: Map<string, FieldPath>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Base64 without the line breaks a template may have put in, when that is still the same bytes. */
function canonicalBase64(value: string): string {
  const stripped = value.replace(/\s+/g, "");
  return Buffer.from(stripped, "base64").toString("base64") === stripped ? stripped : value;
}

/**
 * The manifest as the server stores it, for comparing: without apiVersion, kind, status and the
 * metadata the server keeps; a Secret's `stringData` moved into `data` as base64. `aliases` maps each
 * such `data` key to the `stringData` path Ferry's managedFields name it by.
 */
function storedForm(desired: KubeObject): { object: Record<string, unknown>; aliases: Map<string, FieldPath> } {
  const { apiVersion: _apiVersion, kind: _kind, status: _status, metadata: _metadata, ...rest } = desired;
  const metadata: Record<string, unknown> = { ...desired.metadata };
  for (const field of SERVER_METADATA) delete metadata[field];
  const object: Record<string, unknown> = { metadata, ...rest };
  const aliases = new Map<string, FieldPath>();
  if (desired.kind !== "Secret" || desired.apiVersion !== "v1") return { object, aliases };
  const data: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(isPlainObject(desired.data) ? desired.data : {})) {
    data[key] = typeof value === "string" ? canonicalBase64(value) : value;
  }
  for (const [key, value] of Object.entries(isPlainObject(desired.stringData) ? desired.stringData : {})) {
    if (typeof value !== "string") continue;
    data[key] = Buffer.from(value, "utf8").toString("base64");
    aliases.set(fieldPathId([{ field: "data" }, { field: key }]), [{ field: "stringData" }, { field: key }]);
  }
  delete object.stringData;
  if (Object.keys(data).length > 0 || "data" in desired) object.data = data;
  return { object, aliases };
}

/**
 * Whether Ferry still owns a path (or anything under it). A `data` key written as `stringData` is
 * Ferry's while nobody else has written it as `data`.
 */
function ferryOwns(owners: Owners, path: FieldPath): boolean {
  if (owners.ferry.some((set) => set.holdsUnder(path))) return true;
  const alias = owners.aliases.get(fieldPathId(path));
  if (alias === undefined || !owners.ferry.some((set) => set.owns(alias))) return false;
  return !owners.others.some((e) => e.fields.holdsUnder(path));
}

/**
 * How a list at `path` is keyed, from any manager's entry: `k:` items make a map keyed by those
 * fields, `v:` items a set, `i:` items a list by position, a leaf an atomic list. When no entry
 * records it (managedFields reset), items that all have a name are keyed by it, as most lists are.
 */
function listShape(owners: Owners, path: FieldPath, items: unknown[]): ListShape {
  let atomic = false;
  for (const { fields } of owners.entries) {
    const children = fields.childrenAt(path);
    if (children === undefined) continue;
    if (children.length === 0) atomic = true;
    for (const child of children) {
      if ("key" in child) return { kind: "map", keys: Object.keys(child.key) };
      if ("value" in child) return { kind: "set" };
      if ("index" in child) return { kind: "index" };
    }
  }
  const named = items.every((item) => isPlainObject(item) && typeof item.name === "string");
  return !atomic && named ? { kind: "map", keys: ["name"] } : { kind: "atomic" };
}

/**
 * The live item a desired item is, and the key that names it. Key fields the manifest leaves out
 * (a port's defaulted `protocol`) match anything; among several matches, the one Ferry owns wins.
 */
function matchItem(owners: Owners, path: FieldPath, items: unknown[], item: Record<string, unknown>, keys: string[]) {
  const keyOf = (o: Record<string, unknown>) =>
    Object.fromEntries(keys.filter((k) => o[k] !== undefined && o[k] !== null).map((k) => [k, o[k]]));
  const given = keyOf(item);
  if (Object.keys(given).length === 0) return { key: given, item: undefined };
  const matches = (candidate: Record<string, unknown>) =>
    Object.entries(given).every(([k, v]) => canonicalJson(candidate[k]) === canonicalJson(v));
  const candidates = items.filter(isPlainObject).filter(matches);
  const owned = candidates.find((c) => owners.ferry.some((set) => set.holdsUnder([...path, { key: keyOf(c) }])));
  const chosen = owned ?? candidates[0];
  return chosen ? { key: keyOf(chosen), item: chosen } : { key: given, item: undefined };
}

/**
 * The fields of `desired` that drifted in `live`: walks the manifest alongside the live object,
 * down maps and keyed lists, and judges each leaf (or each subtree missing from live) at once.
 */
function findDrift(desired: Record<string, unknown>, live: Record<string, unknown>, owners: Owners): Finding[] {
  const found: Finding[] = [];
  const judge = (want: unknown, have: Slot, path: FieldPath): void => {
    if (ferryOwns(owners, path) || sameValue(want, have?.value, path)) return;
    found.push({ path, desired: want, live: have });
  };
  const visit = (want: unknown, have: Slot, path: FieldPath): void => {
    if (want === null || want === undefined) return;
    const here = have?.value;
    if (isPlainObject(want) && Object.keys(want).length > 0 && isPlainObject(here)) {
      for (const [name, child] of Object.entries(want)) {
        visit(child, Object.hasOwn(here, name) ? { value: here[name] } : undefined, [...path, { field: name }]);
      }
      return;
    }
    if (Array.isArray(want) && want.length > 0 && Array.isArray(here)) {
      const shape = listShape(owners, path, want);
      if (shape.kind === "map" && want.every(isPlainObject)) {
        for (const item of want) {
          const match = matchItem(owners, path, here, item, shape.keys);
          const itemPath: FieldPath = [...path, { key: match.key }];
          if (match.item) visit(item, { value: match.item }, itemPath);
          else judge(item, undefined, itemPath);
        }
        return;
      }
      if (shape.kind === "set") {
        for (const item of want) {
          if (!here.some((h) => sameValue(item, h, path))) judge(item, undefined, [...path, { value: item }]);
        }
        return;
      }
      if (shape.kind === "index") {
        want.forEach((item, index) => {
          visit(item, index < here.length ? { value: here[index] } : undefined, [...path, { index }]);
        });
        return;
      }
    }
    judge(want, have, path);
  };
  visit(desired, { value: live }, []);
  return found;
}

/** The entry that owns a path now (Ferry's applied sets aside); the latest writer when several share it. */
function ownerOf(others: ManagedFieldsEntry[], path: FieldPath): ManagedFieldsEntry | undefined {
  let owner: ManagedFieldsEntry | undefined;
  for (const entry of others) {
    if (!entry.fields.holdsUnder(path)) continue;
    if (!owner || (entry.time ?? "") >= (owner.time ?? "")) owner = entry;
  }
  return owner;
}

/** A masked Secret value reads bare (`(hidden, changed)`); anything else as short JSON. */
function shown(value: unknown): string {
  return typeof value === "string" && MASKED.test(value) ? value : showValue(value);
}

/**
 * How a live object stands against the manifest Ferry last applied to it (`desired`, as rendered
 * and prepared): undefined when in sync, `gone` when there is no live object, `taken-over` when its
 * owner annotation names another inventory, `ignored` when it carries `ferry.dev/drift: ignore`,
 * else `drifted` with each field Ferry manages that another writer changed or removed (see the
 * module comment for how ownership keeps server defaults and normalisation from counting).
 */
export function detectDrift(
  desired: KubeObject,
  live: KubeObject | undefined,
  options: DetectDriftOptions,
): Drift | undefined {
  if (!live) return { kind: "gone" };
  const owner = live.metadata.annotations?.[INVENTORY_ANNOTATION];
  if (owner !== undefined && owner !== options.inventory) return { kind: "taken-over", by: owner };
  if (live.metadata.annotations?.[DRIFT_ANNOTATION] === "ignore") return { kind: "ignored" };

  const fieldManager = options.fieldManager ?? FIELD_MANAGER;
  const entries = readManagedFields(live);
  const isFerry = (e: ManagedFieldsEntry) =>
    e.manager === fieldManager && e.operation === "Apply" && e.subresource === undefined;
  const { object, aliases } = storedForm(desired);
  const owners: Owners = {
    entries,
    ferry: entries.filter(isFerry).map((e) => e.fields),
    others: entries.filter((e) => !isFerry(e)),
    aliases,
  };
  const findings = findDrift(object, live, owners);
  if (findings.length === 0) return undefined;

  // A Secret's values are shown as plans show them: markers saying only whether each key changed.
  const masked =
    desired.kind === "Secret"
      ? maskSecretPair({ ...object, apiVersion: desired.apiVersion, kind: desired.kind }, live)
      : undefined;
  const show = (side: 0 | 1, path: FieldPath, value: unknown) =>
    masked ? shown(walkPath(masked[side], path)?.value ?? "(hidden)") : showValue(value);
  const secrets = options.secrets ?? [];
  const fields = findings.map(({ path, desired: want, live: have }): DriftedField => {
    const desiredText = show(0, path, want);
    const field: DriftedField = { path: formatFieldPath(path), desired: maskText(desiredText, secrets) };
    // Where Git holds a decrypted value, whatever stands there live (an older value, say) is hidden too.
    if (have)
      field.live = holdsSecret(desiredText, secrets) ? HIDDEN_VALUE : maskText(show(1, path, have.value), secrets);
    const by = ownerOf(owners.others, path);
    if (by) {
      field.manager = by.manager;
      field.operation = by.operation;
      if (by.time !== undefined) field.time = by.time;
    }
    return field;
  });
  return { kind: "drifted", fields };
}
