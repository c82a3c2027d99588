import type { ReleaseChanges } from "../domain/release.js";
import type { ObjectDrift } from "../drift/summarize-drift.js";
import type { ObjectRef } from "../kube/object-ref.js";
import { refKey } from "../kube/object-ref.js";
import type { ReleaseTarget } from "../release/compare-with-cluster.js";
import { ReleaseSession } from "../release/release-session.js";
import type { RenderedObject } from "../render/types.js";

/** What a heal re-applies: the last release's render and commit, on its target. */
export interface HealInput {
  target: ReleaseTarget;
  rendered: RenderedObject[];
  sha: string;
  /** Who asked: `ferry-reconcile` in heal mode, the commenter for `/ferry heal`. */
  actor: string;
  /** How each object stands, from `findDrift`. */
  objects: ObjectDrift[];
}

/**
 * Undoes drift by releasing the last release's render again as the same commit, in a session of its
 * own: its compare step applies (forced server-side apply, field manager `ferry`) every object whose
 * live version moved since the inventory, which takes back the fields others changed and re-creates
 * deleted objects; objects marked `ferry.dev/drift: ignore` or taken over by another inventory are
 * left alone. Prune works as in any release (the render is the one the inventory holds, so it has
 * nothing to prune). Recorded as a heal of that commit. Returns the objects it restored, and what
 * the heal's release changed (`+` re-created, `~` re-applied).
 */
export async function healDrift(input: HealInput): Promise<{ restored: ObjectRef[]; changes: ReleaseChanges }> {
  const leave = new Set(
    input.objects
      .filter((o) => o.drift?.kind === "ignored" || o.drift?.kind === "taken-over")
      .map((o) => refKey(o.ref)),
  );
  const session = new ReleaseSession(input.target);
  const result = await session.apply(input.rendered, input.sha, input.actor, { leave });
  const restored = [...result.created, ...result.configured];
  await session.record("success", `healed ${restored.length}`, { heal: true });
  const { objects: _, ...changes } = result;
  return { restored, changes };
}
