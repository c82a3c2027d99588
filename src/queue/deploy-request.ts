import { createHash } from "node:crypto";
import type { RepoRef } from "../forge/types.js";

/** A merge or push to a deploy branch, as the intake queues it: the worker deploys the branch head. */
export interface DeployRequest {
  repo: RepoRef;
  /** Branch that received the commit. */
  branch: string;
  /** The merged or pushed commit. */
  sha: string;
  /** Who merged or pushed. */
  actor: string;
  /** The forge's delivery id, for logs. */
  deliveryId: string;
  /** The change merged as `sha`, when the event named it. */
  change?: number;
}

/** Name of the queue deploy requests go to. */
export const DEPLOY_QUEUE = "ferry-deploy";

/**
 * The job id of a deploy request: one per (repository, branch, commit), so a redelivered webhook
 * and the same merge seen through `push` and `pull_request` queue one job.
 */
export function deployJobId(request: Pick<DeployRequest, "repo" | "branch" | "sha">): string {
  const key = `${request.repo.forge}\n${request.repo.fullName}\n${request.branch}\n${request.sha}`;
  return `deploy-${createHash("sha256").update(key).digest("hex").slice(0, 32)}`;
}
