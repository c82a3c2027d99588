import { detectDrift } from "../drift/detect-drift.js";
import type { ObjectDrift } from "../drift/summarize-drift.js";
import { prepareObjects } from "../kube/desired-object.js";
import type { Inventory, InventoryLocation } from "../kube/inventory.js";
import type { KubeClient } from "../kube/kube-client.js";
import { apiLiveReader, type LiveReader } from "../kube/live-state.js";
import { refKey } from "../kube/object-ref.js";
import type { KubeObject, RenderedObject } from "../render/types.js";

/** What a drift check compares: the last release's render and inventory, on one cluster. */
export interface FindDriftInput {
  client: KubeClient;
  /** Where the inventory lives; its id is the owner annotation Ferry put on every object. */
  at: InventoryLocation;
  namespace: string;
  inventory: Inventory;
  /** The render the inventory's last release applied. */
  rendered: RenderedObject[];
  /** Where live objects are read from (default the API server): the watch caches' reader when watched. */
  live?: LiveReader;
}

/**
 * How each object of the last release stands on the cluster: its render prepared exactly as a
 * release prepares it (namespace, Ferry's label and owner annotation), the live objects read whole
 * (managedFields included) with one LIST per kind and namespace, or from the watch caches while they
 * are fresh (`input.live`), each judged by `detectDrift`; an
 * object the inventory holds that the render does not (a release that failed part way left it) is
 * `gone` when it no longer exists, and otherwise not judged (there is no manifest to judge it by).
 */
export async function findDrift(input: FindDriftInput): Promise<ObjectDrift[]> {
  const { client, at } = input;
  const desired = await prepareObjects(client, input.rendered, input.namespace, at.id);
  const desiredKeys = new Set(desired.map((d) => d.key));
  const extra = input.inventory.objects.filter((o) => !desiredKeys.has(refKey(o)));
  const live = await (input.live ?? apiLiveReader(client)).objects([...desired.map((d) => d.ref), ...extra]);
  return [
    ...desired.map((d) => ({
      ref: d.ref,
      drift: detectDrift(d.object, live.get(d.key) as KubeObject | undefined, {
        inventory: at.id,
        ...(d.secrets === undefined ? {} : { secrets: d.secrets }),
      }),
    })),
    ...extra.map((ref) => ({ ref, drift: live.has(refKey(ref)) ? undefined : ({ kind: "gone" } as const) })),
  ];
}

/** Whether an object's drift is Ferry's to undo: drifted or gone, not ignored by annotation or taken over by another inventory. */
export function healable(object: ObjectDrift): boolean {
  return object.drift?.kind === "drifted" || object.drift?.kind === "gone";
}
