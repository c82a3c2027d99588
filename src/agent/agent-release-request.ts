import type { Environment } from "../config/ferry-config.js";
import type { ClusterOutcome } from "../domain/release.js";
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

/** An agent job's result: how the release ended on the cluster. */
export type AgentOutcome = ClusterOutcome;

/**
 * One environment's plan on an agent cluster, as its agent gets it: the objects central workers
 * rendered from the change's head, to compare with the live cluster (dry-runs only; nothing is written).
 */
export interface AgentPlanRequest {
  /** The cluster the agent runs in; an agent refuses work for any other. */
  cluster: string;
  /** The repository, as the inventory names it. */
  repository: string;
  /** The commit planned. */
  sha: string;
  env: Environment;
  grant: Grant;
  rendered: RenderedObject[];
}

/** What an agent's queue holds: releases (job name `release`) and plans (job name `plan`). */
export type AgentJobData = AgentReleaseRequest | AgentPlanRequest;

/** What an agent's job returns: a release's outcome, or a plan. */
export type AgentJobResult = AgentOutcome | EnvironmentPlan;
