import type { Condition, Health, LiveResource } from "./types.js";

/** A current verdict. */
export function current(message: string): Health {
  return { status: "current", message };
}

/** An in-progress verdict. */
export function inProgress(message: string, reason?: string): Health {
  return reason === undefined ? { status: "in-progress", message } : { status: "in-progress", message, reason };
}

/** A suspended verdict: held on purpose until someone resumes it. */
export function suspended(message: string): Health {
  return { status: "suspended", message };
}

/** A failed verdict, with the condition reason that says so. */
export function failed(message: string, reason: string): Health {
  return { status: "failed", message, reason };
}

/** The object's status conditions (none when it has no status yet). */
export function conditions(object: LiveResource): Condition[] {
  const list = object.status?.conditions;
  if (!Array.isArray(list)) return [];
  return list.filter(
    (c): c is Condition => typeof c === "object" && c !== null && typeof (c as Condition).type === "string",
  );
}

/** The condition of a type, if the object has it. */
export function condition(object: LiveResource, type: string): Condition | undefined {
  return conditions(object).find((c) => c.type === type);
}

/** A number in the status; 0 when absent (controllers leave zero counts out). */
export function statusNumber(object: LiveResource, field: string): number {
  const value = object.status?.[field];
  return typeof value === "number" ? value : 0;
}

/** A number in the spec, or `fallback` when absent (as the API server defaults it). */
export function specNumber(object: LiveResource, field: string, fallback: number): number {
  const value = object.spec?.[field];
  return typeof value === "number" ? value : fallback;
}

/**
 * In progress while the controller has not yet seen the latest spec: `status.observedGeneration`
 * behind `metadata.generation`. Everything else in the status describes an older spec until then.
 * Built-in controllers always write it (`required`); for other kinds only a status that has one counts.
 */
export function staleGeneration(object: LiveResource, required = true): Health | undefined {
  const generation = object.metadata?.generation;
  const observed = object.status?.observedGeneration;
  if (typeof generation !== "number") return undefined;
  if (typeof observed !== "number" && !required) return undefined;
  if (typeof observed !== "number" || observed < generation)
    return inProgress(`waiting for the controller to observe generation ${generation}`);
  return undefined;
}

/**
 * Where a Service's or Ingress's load balancer is reached, from `status.loadBalancer.ingress`: its
 * first IP or hostname, `an address` when the controller published an entry without either, or
 * undefined while it has published none.
 */
export function loadBalancerAddress(object: LiveResource): string | undefined {
  const ingress = (object.status?.loadBalancer as { ingress?: Array<{ ip?: string; hostname?: string }> } | undefined)
    ?.ingress;
  const first = Array.isArray(ingress) ? ingress[0] : undefined;
  if (!first) return undefined;
  return first.ip ?? first.hostname ?? "an address";
}

/** `reason: message` of a condition, or whichever of the two it has. */
export function conditionText(c: Condition): string {
  return (
    [c.reason, c.message].filter((part) => part !== undefined && part !== "").join(": ") || `${c.type} is ${c.status}`
  );
}

/**
 * When the object's spec or metadata was last written (the newest `managedFields` time outside the
 * status subresource), in epoch milliseconds; undefined when the server kept no such record.
 */
export function lastSpecWrite(object: LiveResource): number | undefined {
  const times = (object.metadata?.managedFields ?? [])
    .filter((f) => !f.subresource && f.time)
    .map((f) => Date.parse(f.time ?? ""));
  const valid = times.filter((t) => !Number.isNaN(t));
  return valid.length > 0 ? Math.max(...valid) : undefined;
}

/** True when a condition was last set no later than the latest spec write: it speaks of an earlier spec. */
export function predatesSpec(c: Condition, object: LiveResource): boolean {
  const written = lastSpecWrite(object);
  const set = Date.parse(c.lastUpdateTime ?? c.lastTransitionTime ?? "");
  return written !== undefined && !Number.isNaN(set) && set <= written;
}
