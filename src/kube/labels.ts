/** Label Ferry puts on the objects it applies (the recommended `managed-by` label), save where it would stop the server's defaulting (managed-by-label.ts). */
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
/** Annotation naming the inventory that owns an object (`namespace/name` of the inventory ConfigMap), on every object Ferry applies; prune deletes only what it owns. */
export const INVENTORY_ANNOTATION = "ferry.dev/inventory";
/** Field manager for server-side apply. */
export const FIELD_MANAGER = "ferry";
/** Annotation by which one object opts out of drift detection: `ferry.dev/drift: ignore`. */
export const DRIFT_ANNOTATION = "ferry.dev/drift";
/**
 * Annotation a manifest sets (`"true"`, the only value accepted) to take over an object another
 * environment owns; without it Ferry refuses to apply an object whose owner annotation names
 * another environment, so two environments never fight over one object.
 */
export const TAKE_OVER_ANNOTATION = "ferry.dev/take-over";
