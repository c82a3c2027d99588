import type { Environment } from "../config/ferry-config.js";
import type { ClusterOutcome, ReleaseChanges } from "../domain/release.js";
import type { ObjectDrift } from "../drift/summarize-drift.js";
import type { Inventory } from "../kube/inventory.js";
import type { ObjectRef } from "../kube/object-ref.js";
import type { EnvironmentPlan } from "../plan/types.js";
import type { Grant } from "../policy/policy.js";
import type { RenderedObject } from "../render/types.js";

/**
 * One cluster's release as its agent gets it: everything central workers decided (the environment
 * resolved for the cluster, the policy grant, the rendered objects), so the agent needs no forge,
 * no rollout store and no server config. It travels only in the agent's own queue.
 */
export interface AgentReleaseRequest {
  /** The rollout this release belongs to (for logs). */
  rolloutId: string;
  /** The cluster the agent runs in; an agent refuses work for any other. */
  cluster: string;
  /** The repository, as the inventory names it. */
  repository: string;
  sha: string;
  actor: string;
  env: Environment;
  grant: Grant;
  rendered: RenderedObject[];
  /**
   * Set when this release is the rollback of `rollbackOf`, whose release failed health: `sha` is the
   * earlier commit central Ferry rendered again. The agent then names no commit to roll back to.
   */
  rollbackOf?: string;
}

/** What an agent reports while it releases: the running status's words (`deploying …`, `waiting: …`). */
export interface AgentProgress {
  description: string;
}

/** Why central Ferry cancelled an agent's job: the agent then leaves the cluster as it is. */
export type AgentCancel =
  /** A newer rollout took the environment: stop waiting for health. */
  | { kind: "superseded"; by: string }
  /** Central Ferry gave up on the agent (`unreachable`) and reported the cluster unreachable. */
  | { kind: "abandoned"; reason: string };

/**
 * An agent job's result: how the release ended on the cluster. A release that failed health in an
 * environment with `onFailure: rollback` adds `rollbackTo`, the inventory's last successful commit
 * before it, which central Ferry renders and sends back as a rollback (absent when there is none).
 */
export type AgentOutcome = ClusterOutcome & { rollbackTo?: string };

/** One environment's objects at one commit, rendered centrally, for the agent of `cluster` to judge its live cluster by. */
export interface AgentRenderRequest {
  /** The cluster the agent runs in; an agent refuses work for any other. */
  cluster: string;
  /** The repository, as the inventory names it. */
  repository: string;
  /** The commit rendered: the change's head for a plan; for a reconcile, the one the cluster last released with success. */
  sha: string;
  env: Environment;
  grant: Grant;
  rendered: RenderedObject[];
}

/**
 * One environment's plan on an agent cluster, as its agent gets it: the objects central workers
 * rendered from the change's head, to compare with the live cluster (dry-runs only; nothing is written).
 */
export type AgentPlanRequest = AgentRenderRequest;

/**
 * A reconcile's first look (job name `inventory`): the environment's inventory on the agent's
 * cluster, which says what it last released (for the catch-up and for which render to compare).
 */
export interface AgentInventoryRequest {
  /** The cluster the agent runs in; an agent refuses work for any other. */
  cluster: string;
  /** The repository, as the inventory names it. */
  repository: string;
  environment: string;
  /** The namespace the inventory lives in. */
  namespace: string;
}

/**
 * A reconcile's check (job name `reconcile`): the render of the commit the cluster last released,
 * rendered centrally, to judge the live objects by (the agent checks its inventory's newest record
 * is still that commit's success); with `heal`, drift found is healed at once.
 */
export interface AgentReconcileRequest extends AgentRenderRequest {
  /** Heal what drifted, recorded as `actor`'s (heal mode, or `/ferry heal`). */
  heal?: { actor: string };
}

/**
 * What an agent's reconcile found: each object's drift, masked on the agent as centrally (Secret
 * values as markers, SOPS-decrypted values hidden), and what a heal restored or why it failed.
 */
export interface AgentReconcileResult {
  objects: ObjectDrift[];
  /** The heal's restored objects and changes, when it healed. */
  healed?: { restored: ObjectRef[]; changes: ReleaseChanges };
  /** Why the heal failed, when it did. */
  healError?: string;
}

/**
 * What an agent's queue holds: releases (job name `release`), plans (`plan`), and a reconcile's
 * inventory read (`inventory`) and check (`reconcile`).
 */
export type AgentJobData = AgentReleaseRequest | AgentPlanRequest | AgentInventoryRequest | AgentReconcileRequest;

/** What an agent's job returns: a release's outcome, a plan, an inventory, or a reconcile's findings. */
export type AgentJobResult = AgentOutcome | EnvironmentPlan | Inventory | AgentReconcileResult;
