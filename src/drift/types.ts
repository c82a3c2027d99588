/** One field of an object that no longer holds what Ferry applied. */
export interface DriftedField {
  /** Where, as people read it: `spec.replicas`, `spec.template.spec.containers[name=web].image`. */
  path: string;
  /** What Ferry applied, as short JSON; a Secret's values masked as plans mask them (`(hidden)`). */
  desired: string;
  /** What the cluster holds now, as short JSON (masked for Secrets); undefined when the field is gone. */
  live?: string;
  /**
   * The field manager that owns the field now (`kubectl-edit`, `kubectl-client-side-apply`, `kubectl`
   * for `kubectl scale`, …); undefined when nobody does: the field was removed, or the object's
   * managedFields were reset.
   */
  manager?: string;
  /** How that manager wrote: `Update` (edit, patch, scale, client-side apply) or `Apply` (server-side apply). */
  operation?: string;
  /** When that manager last changed the object (RFC 3339); the server records none for some writes (`kubectl scale`). */
  time?: string;
}

/**
 * How a live object stands against what Ferry last applied (no drift is `undefined`): `gone` (deleted),
 * `taken-over` (its owner annotation names another inventory, `by`; it is not Ferry's to re-apply),
 * `ignored` (it carries `ferry.dev/drift: ignore`), or `drifted` with the fields that changed.
 */
export type Drift =
  | { kind: "gone" }
  | { kind: "taken-over"; by: string }
  | { kind: "ignored" }
  | { kind: "drifted"; fields: DriftedField[] };
