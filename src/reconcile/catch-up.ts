import type { RepoRef } from "../domain/repo.js";
import type { Forge } from "../forge/types.js";
import type { Inventory } from "../kube/inventory.js";
import type { Queues } from "../queue/queues.js";
import type { RolloutStore } from "../rollout/rollout-store.js";

/** What a catch-up looks at. */
export interface CatchUpInput {
  forge: Forge;
  store: RolloutStore;
  queues: Pick<Queues, "enqueueCatchUp">;
  repo: RepoRef;
  branch: string;
  environment: string;
  /** The environment's inventory on the cluster being reconciled. */
  inventory: Inventory;
}

/** Who a catch-up deploy is recorded as released by. */
export const CATCH_UP_ACTOR = "ferry-reconcile";

/**
 * Catches up with a lost webhook: when the branch head has no rollout of this environment and is not
 * what the cluster last released, queues a deploy of the head through the normal path (its job id
 * per (repository, branch, commit) dedupes it against a webhook that did arrive), marked as queued
 * by reconcile. The deploy job releases the branch head under the environment's rollout lock, so a
 * catch-up never takes a cluster back to an older commit. Returns the head it queued, if it did.
 */
export async function catchUp(input: CatchUpInput): Promise<string | undefined> {
  const head = await input.forge.branchHead(input.branch);
  if ((await input.store.idOf(input.repo, input.environment, head)) !== undefined) return undefined;
  if (input.inventory.releases.find((r) => r.result === "success")?.sha === head) return undefined;
  const queued = await input.queues.enqueueCatchUp({
    repo: input.repo,
    branch: input.branch,
    sha: head,
    actor: CATCH_UP_ACTOR,
    deliveryId: `reconcile-${head.slice(0, 12)}`,
    trigger: "reconcile",
  });
  return queued ? head : undefined;
}
