import { parseFieldsV1, type FieldSet } from "./parse-fields-v1.js";

/** One manager's claim on an object, from `metadata.managedFields`. */
export interface ManagedFieldsEntry {
  /** Who wrote: `ferry`, `kubectl-edit`, `kubectl-client-side-apply`, `kube-controller-manager`, … */
  manager: string;
  /** `Apply` (server-side apply) or `Update` (create, update, patch, client-side apply, scale). */
  operation: string;
  /** The subresource written (`status`, `scale`), undefined for the object itself. */
  subresource?: string;
  /** When the manager last changed its fields (RFC 3339); the server records none for some writes, such as `kubectl scale`. */
  time?: string;
  /** The apiVersion the fields are named in. */
  apiVersion?: string;
  /** The fields the manager owns. */
  fields: FieldSet;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const text = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value : undefined);

/** The managedFields entries of a live object; entries in a format other than FieldsV1, or without a manager, are left out. */
export function readManagedFields(object: Record<string, unknown>): ManagedFieldsEntry[] {
  const metadata = object.metadata;
  const raw =
    isPlainObject(metadata) && Array.isArray(metadata.managedFields) ? (metadata.managedFields as unknown[]) : [];
  const entries: ManagedFieldsEntry[] = [];
  for (const entry of raw) {
    if (!isPlainObject(entry) || (entry.fieldsType !== undefined && entry.fieldsType !== "FieldsV1")) continue;
    const manager = text(entry.manager);
    if (manager === undefined) continue;
    entries.push({
      manager,
      operation: text(entry.operation) ?? "Update",
      subresource: text(entry.subresource),
      time: text(entry.time),
      apiVersion: text(entry.apiVersion),
      fields: parseFieldsV1(entry.fieldsV1),
    });
  }
  return entries;
}
