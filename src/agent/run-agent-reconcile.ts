import { permanent } from "../errors.js";
import { inventoryLocation, readInventory, type Inventory } from "../kube/inventory.js";
import type { KubeClient } from "../kube/kube-client.js";
import { findDrift, healable } from "../reconcile/find-drift.js";
import { healDrift } from "../reconcile/heal-drift.js";
import type { AgentInventoryRequest, AgentReconcileRequest, AgentReconcileResult } from "./agent-release-request.js";

/** A reconcile's first look, run by the agent: the environment's inventory on its own cluster. */
export function readAgentInventory(client: KubeClient, request: AgentInventoryRequest): Promise<Inventory> {
  const at = inventoryLocation(request.repository, request.environment, request.namespace);
  return readInventory(client, at, request.repository, request.environment);
}

/**
 * A reconcile's check, run by the agent on its own cluster with the render central Ferry made of the
 * commit the cluster last released: the inventory (still that commit's success? central Ferry holds
 * the environment's lock, so it should be) → the same drift finding as a central reconcile → with
 * `heal` and something drifted, the same heal. The findings leave the cluster masked as `findDrift`
 * masks them; a failed heal is reported, not thrown, so the drift found still reaches the report.
 */
export async function runAgentReconcile(
  client: KubeClient,
  request: AgentReconcileRequest,
): Promise<AgentReconcileResult> {
  const { env } = request;
  const at = inventoryLocation(request.repository, env.name, env.namespace);
  const inventory = await readInventory(client, at, request.repository, env.name);
  const [newest] = inventory.releases;
  if (newest?.result !== "success" || newest.sha !== request.sha)
    throw permanent(
      `the cluster's last release is no longer ${request.sha.slice(0, 7)}'s success ` +
        `(it is ${newest === undefined ? "none" : `${newest.sha.slice(0, 7)}: ${newest.result}`}); the next reconcile looks again`,
    );
  const objects = await findDrift({ client, at, namespace: env.namespace, inventory, rendered: request.rendered });
  if (request.heal === undefined || !objects.some(healable)) return { objects };
  try {
    const healed = await healDrift({
      target: { client, repository: request.repository, env, grant: request.grant },
      rendered: request.rendered,
      sha: request.sha,
      actor: request.heal.actor,
      objects,
    });
    return { objects, healed };
  } catch (error) {
    return { objects, healError: error instanceof Error ? error.message : String(error) };
  }
}
