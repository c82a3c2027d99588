import type { ReleaseChanges } from "../domain/release.js";
import { describeRef } from "../kube/object-ref.js";
import type { AuditObjects } from "./audit-record.js";

/** The most names each list of a record keeps: a release of thousands of objects must not make one huge record. */
export const AUDIT_NAMES_PER_LIST = 100;

/** What a release, rollback or heal wrote, as an audit record names it: `+ ~ −` by name (`Deployment shop/web`), never values. */
export function auditObjects(changes: ReleaseChanges): AuditObjects {
  const omitted: NonNullable<AuditObjects["omitted"]> = {};
  const names = (list: "created" | "configured" | "pruned") => {
    const refs = changes[list];
    if (refs.length > AUDIT_NAMES_PER_LIST) omitted[list] = refs.length - AUDIT_NAMES_PER_LIST;
    return refs.slice(0, AUDIT_NAMES_PER_LIST).map(describeRef);
  };
  const objects: AuditObjects = {
    created: names("created"),
    configured: names("configured"),
    pruned: names("pruned"),
    unchanged: changes.unchanged,
  };
  return Object.keys(omitted).length > 0 ? { ...objects, omitted } : objects;
}

/** How many objects a record's list counts, names left out included. */
export function objectCount(objects: AuditObjects, list: "created" | "configured" | "pruned"): number {
  return objects[list].length + (objects.omitted?.[list] ?? 0);
}
