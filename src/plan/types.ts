import type { ObjectRef } from "../kube/object-ref.js";

/** What a plan says applying a commit would do to one object. */
export type ObjectAction = "create" | "update" | "delete" | "unchanged";

/** One object's line in a plan. */
export interface ObjectPlan {
  ref: ObjectRef;
  action: ObjectAction;
  /** Where the object comes from in the repository (absent for deletes). */
  source?: string;
  /**
   * Unified diff of the normalised YAML (live → after), without file headers; Secret values
   * masked. Empty for unchanged objects.
   */
  diff: string;
  /**
   * Set when the server could not dry-run the object because this admission webhook on its kind does
   * not support dry run (`validation.unsupportedDryRun: skip`): nothing validated it, and an update's
   * diff is empty, for only the server's dry-run result says what applying it would change.
   */
  notDryRunBy?: string;
  /**
   * Set when the server refused the dry-run because the credentials may not make the write it
   * simulates (Kubernetes authorizes a dry-run as that write): the server's message. Nothing
   * validated the object; an update's diff compares the live object, field by field, with what the
   * manifest sets, without the server's defaults and merge.
   */
  dryRunForbidden?: string;
}

/** The plan of one commit for one environment. */
export interface EnvironmentPlan {
  environment: string;
  cluster: string;
  /** The commit planned. */
  sha: string;
  /** Changed objects only (create, update, delete), in apply order. */
  objects: ObjectPlan[];
  counts: Record<ObjectAction, number>;
  /** Set when the plan could not be made (render, config, policy or server validation); the message says why. */
  error?: string;
  /** The commit the environment last released on the cluster: what the plan was made against (absent: never released). */
  releasedSha?: string;
  /**
   * What a reader should know besides the objects: a namespace that does not exist yet (its objects
   * are dry-run in Ferry's validation namespace), objects left in place because prune is off.
   */
  notes?: string[];
}
