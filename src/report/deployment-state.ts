import type { Rollout } from "../domain/rollout.js";
import type { DeploymentState, StatusState } from "../forge/types.js";

/**
 * The deployment state of a rollout whose `ferry/deploy/<env>` status is `status`: `queued` while it
 * waits (for the environment before it, or for its first cluster), `in_progress` while it releases
 * or waits between waves, then `success`, `failure`, or `inactive` when it ended without releasing
 * the commit for a reason that is no failure of the commit's (superseded by a newer one, aborted by
 * someone, blocked by the environment before it).
 */
export function deploymentState(rollout: Pick<Rollout, "state">, status: StatusState): DeploymentState {
  switch (rollout.state) {
    case "succeeded":
      return "success";
    case "failed":
      return "failure";
    case "superseded":
    case "aborted":
    case "blocked":
      return "inactive";
    case "waiting":
      return "queued";
    case "running":
    case "paused":
    case "awaiting-approval":
      return status === "pending" ? "queued" : "in_progress";
  }
}
