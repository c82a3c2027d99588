import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RolloutState } from "../domain/rollout.js";
import type { DeploymentState, StatusState } from "../forge/types.js";
import { deploymentState } from "./deployment-state.js";

describe("deploymentState", () => {
  const cases: Array<[RolloutState, StatusState, DeploymentState]> = [
    ["waiting", "pending", "queued"],
    ["running", "pending", "queued"],
    ["running", "running", "in_progress"],
    ["paused", "running", "in_progress"],
    ["awaiting-approval", "running", "in_progress"],
    ["succeeded", "success", "success"],
    ["failed", "failure", "failure"],
    ["superseded", "success", "inactive"],
    ["aborted", "failure", "inactive"],
    ["blocked", "failure", "inactive"],
  ];
  for (const [state, status, expected] of cases)
    it(`a ${state} rollout with a ${status} status is ${expected}`, () => {
      assert.equal(deploymentState({ state }, status), expected);
    });
});
