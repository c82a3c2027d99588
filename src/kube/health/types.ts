/**
 * Where an object stands: up as applied, still converging, stuck until someone changes something, or
 * suspended: held on purpose (a paused Deployment, a suspended Job), so it does nothing until someone
 * resumes it. Like Argo CD's `Suspended`, suspended is not failed, and there is nothing to wait for.
 */
export type HealthStatus = "current" | "in-progress" | "failed" | "suspended";

/** One object's health, in words a person can act on. */
export interface Health {
  /** The verdict. */
  status: HealthStatus;
  /** What it waits for, or why it failed, e.g. `2/3 replicas available`. */
  message: string;
  /** The condition reason behind the verdict (`ProgressDeadlineExceeded`, `BackoffLimitExceeded`), when one says it. */
  reason?: string;
}

/** One status condition, as every kind writes them. */
export interface Condition {
  /** `Ready`, `Available`, `Progressing`... */
  type: string;
  /** `True`, `False` or `Unknown`. */
  status: string;
  /** One CamelCase word saying why, e.g. `ProgressDeadlineExceeded`. */
  reason?: string;
  /** Why, in words. */
  message?: string;
  /** The generation the condition describes, when the controller records it. */
  observedGeneration?: number;
  /** When the controller last wrote it (Deployments). */
  lastUpdateTime?: string;
  /** When its status last changed. */
  lastTransitionTime?: string;
}

/** A live object as the API server returns it; health checks read fields through the helpers in `object-status.ts`. */
export interface LiveResource {
  /** Identity, the spec's generation, and who wrote which fields when. */
  metadata?: {
    name?: string;
    namespace?: string;
    generation?: number;
    annotations?: Record<string, string>;
    /** Set once the object is being deleted. */
    deletionTimestamp?: string;
    managedFields?: Array<{ manager?: string; operation?: string; subresource?: string; time?: string }>;
  };
  /** What was asked for. */
  spec?: Record<string, unknown>;
  /** What the controllers report. */
  status?: Record<string, unknown>;
}

/** How one kind's health is judged. */
export interface HealthCheck {
  /** The API group and kind it judges: `apps/Deployment`, `/Pod` for the core group. */
  kind: string;
  /** How a person says an object of the kind is up, as progress reads it: `available` in `2/3 Deployments available`. */
  ready: string;
  /** Judges one live object, read at `now` (epoch ms): some states fail only once they have lasted a while. */
  check(object: LiveResource, now: number): Health;
}
