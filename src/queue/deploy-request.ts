import { createHash } from "node:crypto";
import type { DeployRequest } from "../domain/requests.js";

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
