import { reconcileThroughAgent, inventoryThroughAgent, type ReconcileAgent } from "../agent/reconcile-through-agent.js";
import type { AgentReconcileRequest } from "../agent/agent-release-request.js";
import type { ReleaseChanges } from "../domain/release.js";
import type { ObjectDrift } from "../drift/summarize-drift.js";
import { transient } from "../errors.js";
import { readInventory, type Inventory, type InventoryLocation } from "../kube/inventory.js";
import type { KubeClient } from "../kube/kube-client.js";
import type { LiveReader } from "../kube/live-state.js";
import type { ObjectRef } from "../kube/object-ref.js";
import { findDrift, healable } from "./find-drift.js";
import { healDrift } from "./heal-drift.js";

/**
 * What a reconcile's check compares, and whether to heal what drifted: what an agent is sent (the
 * last released commit's render; `heal` absent: only look), with the inventory already read and where
 * it lives (its id is the owner annotation on every object).
 */
export interface ClusterCheck extends Omit<AgentReconcileRequest, "cluster"> {
  at: InventoryLocation;
  inventory: Inventory;
}

/** What a check found, and what its heal restored or why the heal failed. */
export interface ClusterFindings {
  objects: ObjectDrift[];
  healed?: { restored: ObjectRef[]; changes: ReleaseChanges };
  healError?: Error;
}

/**
 * How a reconcile reaches one cluster: directly with Ferry's own client, or through the cluster's
 * agent, which runs the same steps in it. The reconcile's other steps (catch-up, render, report)
 * are central and the same for both.
 */
export interface ReconcileCluster {
  /** Ferry's client of the cluster; undefined for an agent cluster, which only its agent reaches. */
  client?: KubeClient;
  /** The environment's inventory on the cluster. */
  inventory(at: InventoryLocation, repository: string, environment: string): Promise<Inventory>;
  /** Drift of each object of the last release (`findDrift`) and, with `heal` and anything drifted, the heal. */
  check(check: ClusterCheck): Promise<ClusterFindings>;
}

/** A cluster Ferry reaches: its steps run here, live objects read through `live` when given (the watch caches). */
export function directCluster(client: KubeClient, live?: LiveReader): ReconcileCluster {
  return {
    client,
    inventory: (at, repository, environment) => readInventory(client, at, repository, environment),
    check: async (c) => {
      const objects = await findDrift({
        client,
        at: c.at,
        namespace: c.env.namespace,
        inventory: c.inventory,
        rendered: c.rendered,
        ...(live === undefined ? {} : { live }),
      });
      if (c.heal === undefined || !objects.some(healable)) return { objects };
      try {
        const target = { client, repository: c.repository, env: c.env, grant: c.grant };
        const healed = await healDrift({ target, rendered: c.rendered, sha: c.sha, actor: c.heal.actor, objects });
        return { objects, healed };
      } catch (error) {
        return { objects, healError: error instanceof Error ? error : new Error(String(error)) };
      }
    },
  };
}

/**
 * An agent cluster: each step is a job in its agent's queue (`inventory`, then `reconcile` with the
 * render), followed until it ends. An agent unseen for `agentTimeout` throws `AgentUnreachableError`.
 */
export function agentCluster(to: ReconcileAgent): ReconcileCluster {
  return {
    inventory: (at, repository, environment) =>
      inventoryThroughAgent(to, { repository, environment, namespace: at.namespace }),
    check: async (c) => {
      const found = await reconcileThroughAgent(to, {
        repository: c.repository,
        sha: c.sha,
        env: c.env,
        grant: c.grant,
        rendered: c.rendered,
        ...(c.heal === undefined ? {} : { heal: c.heal }),
      });
      return {
        objects: found.objects,
        ...(found.healed === undefined ? {} : { healed: found.healed }),
        ...(found.healError === undefined ? {} : { healError: transient(found.healError) }),
      };
    },
  };
}
