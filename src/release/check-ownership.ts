import { FerryError } from "../errors.js";
import type { DesiredObject } from "../kube/desired-object.js";
import { describeOwner, readInventoryOwner, type InventoryLocation, type InventoryOwner } from "../kube/inventory.js";
import type { KubeClient } from "../kube/kube-client.js";
import { TAKE_OVER_ANNOTATION } from "../kube/labels.js";
import type { LiveObject } from "../kube/live-state.js";
import { describeRef } from "../kube/object-ref.js";

/** The permanent error of an environment that would take over objects another environment owns. */
export class OwnedElsewhereError extends FerryError {
  /** Builds the error; `message` names every such object and its owner. */
  constructor(message: string) {
    super("permanent", message);
    this.name = "OwnedElsewhereError";
  }
}

/**
 * Refuses, before anything is written, to apply objects whose owner annotation names another
 * environment's inventory: applied anyway, the other environment's next release would take them
 * back, and the two would fight forever without anyone hearing of it. The error names each object
 * and its owner (`ConfigMap shop/settings (deploy/settings.yaml) is owned by acme/other@production`).
 * An object whose manifest sets `ferry.dev/take-over: "true"` is taken over on purpose. An owner
 * that is this same environment under another inventory (its `namespace:` changed) is not another.
 */
export async function checkOwnership(
  client: KubeClient,
  at: InventoryLocation,
  self: InventoryOwner,
  desired: DesiredObject[],
  live: Map<string, LiveObject>,
): Promise<void> {
  const claimed = desired.flatMap((d) => {
    const owner = live.get(d.key)?.inventory;
    if (owner === undefined || owner === at.id || d.object.metadata.annotations?.[TAKE_OVER_ANNOTATION] === "true")
      return [];
    return [{ d, owner }];
  });
  if (claimed.length === 0) return;
  const owners = new Map(
    await Promise.all(
      [...new Set(claimed.map((c) => c.owner))].map(async (id) => [id, await readInventoryOwner(client, id)] as const),
    ),
  );
  const lines: string[] = [];
  for (const { d, owner: id } of claimed) {
    const owner = owners.get(id);
    if (typeof owner === "object" && owner.repository === self.repository && owner.environment === self.environment)
      continue;
    const whose =
      owner === undefined
        ? `the environment of inventory ${id}, which no longer exists`
        : owner === "unreadable"
          ? `the environment of inventory ${id}`
          : `${describeOwner(owner)} (inventory ${id})`;
    lines.push(`${describeRef(d.ref)} (${d.source}) is owned by ${whose}`);
  }
  if (lines.length === 0) return;
  const more = lines.length > 1 ? ` (and ${lines.length - 1} more)` : "";
  throw new OwnedElsewhereError(
    [
      `${lines[0]}${more}`,
      ...lines.slice(1),
      `(Ferry does not take over an object another environment owns, and applies nothing to ${describeOwner(self)} while one is in the way; ` +
        `to take one over on purpose, annotate it ${TAKE_OVER_ANNOTATION}: "true" in this environment's manifest)`,
    ].join("\n"),
  );
}
