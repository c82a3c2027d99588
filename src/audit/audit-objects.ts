import type { ReleaseChanges } from "../domain/release.js";
import { describeRef, type ObjectRef } from "../kube/object-ref.js";
import type { AuditObjects } from "./audit-record.js";

/** The most names each list of a record keeps: a release of thousands of objects must not make one huge record. */
export const AUDIT_NAMES_PER_LIST = 100;

/** What a release, rollback or heal wrote, as an audit record names it: `+ ~ −` by name (`Deployment shop/web`), never values. */
export function auditObjects(changes: ReleaseChanges): AuditObjects {
  let omitted = 0;
  const names = (refs: ObjectRef[]) => {
    omitted += Math.max(0, refs.length - AUDIT_NAMES_PER_LIST);
    return refs.slice(0, AUDIT_NAMES_PER_LIST).map(describeRef);
  };
  const objects: AuditObjects = {
    created: names(changes.created),
    configured: names(changes.configured),
    pruned: names(changes.pruned),
    unchanged: changes.unchanged,
  };
  return omitted > 0 ? { ...objects, omitted } : objects;
}
