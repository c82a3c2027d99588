import pLimit from "p-limit";
import { permanent, transient } from "../errors.js";
import { APPLY_CONCURRENCY } from "./apply.js";
import { apiError, isTransientStatus, type KubeClient } from "./kube-client.js";
import type { LiveObject } from "./live-state.js";
import { describeRef, refKey, type ObjectRef } from "./object-ref.js";

/**
 * Deletes what the environment owned and Git no longer has, namespaced objects before Namespaces.
 * An object is deleted only while its owner annotation still names this inventory, so an object
 * another environment has taken over is left alone. Returns the refs deleted.
 */
export async function prune(
  client: KubeClient,
  candidates: ObjectRef[],
  live: Map<string, LiveObject>,
  inventoryId: string,
): Promise<ObjectRef[]> {
  const owned = candidates.filter((ref) => live.get(refKey(ref))?.inventory === inventoryId);
  const namespaces = owned.filter((ref) => ref.kind === "Namespace" && ref.apiVersion === "v1");
  const others = owned.filter((ref) => !namespaces.includes(ref));
  const limit = pLimit(APPLY_CONCURRENCY);
  const remove = (ref: ObjectRef) =>
    limit(async () => {
      const res = await client.request("DELETE", await client.path(ref), {
        kind: "DeleteOptions",
        apiVersion: "v1",
        propagationPolicy: "Background",
      });
      if (res.status === 200 || res.status === 202 || res.status === 404) return;
      const error = apiError(res);
      throw isTransientStatus(res.status)
        ? transient(`pruning ${describeRef(ref)}: ${error.message}`)
        : permanent(`pruning ${describeRef(ref)}: ${error.message}`);
    });
  await Promise.all(others.map(remove));
  await Promise.all(namespaces.map(remove));
  return [...others, ...namespaces];
}
