import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ClusterCounts, Rollout } from "../domain/rollout.js";
import { nextStep } from "./next-step.js";

const counts = (c: Partial<ClusterCounts>): ClusterCounts => ({
  pending: 0,
  releasing: 0,
  released: 0,
  "already-released": 0,
  superseded: 0,
  skipped: 0,
  failed: 0,
  unreachable: 0,
  ...c,
});
const rollout: Rollout = {
  id: "r",
  repo: { forge: "github", fullName: "acme/shop" },
  environment: "production",
  branch: "main",
  sha: "abc",
  actor: "dev",
  delivery: "d1",
  single: false,
  state: "running",
  wave: 0,
  createdAt: 0,
  waves: [
    { index: 0, name: "canary", clusters: ["a", "b"], maxParallel: 1, failureBudget: 1, approval: true },
    { index: 1, name: "rest", clusters: ["c", "d", "e"], maxParallel: 2, failureBudget: 0, approval: false },
  ],
};

describe("nextStep", () => {
  it("starts clusters up to maxParallel and waits while they release", () => {
    assert.deepEqual(nextStep(rollout, [counts({ pending: 2 }), counts({ pending: 3 })], 0, false), {
      kind: "start",
      wave: rollout.waves[0],
      count: 1,
    });
    assert.deepEqual(nextStep(rollout, [counts({ pending: 1, releasing: 1 }), counts({ pending: 3 })], 0, false), {
      kind: "wait",
    });
  });
  it("goes on within the failure budget and halts past it, once the clusters releasing finished", () => {
    assert.deepEqual(
      nextStep(rollout, [counts({ failed: 1, pending: 1 }), counts({ pending: 3 })], 0, false).kind,
      "start",
    );
    const second = { ...rollout, wave: 1 };
    assert.deepEqual(
      nextStep(second, [counts({ released: 2 }), counts({ failed: 1, releasing: 1, pending: 1 })], 0, false),
      { kind: "wait" },
    );
    assert.equal(
      nextStep(second, [counts({ released: 2 }), counts({ failed: 1, released: 1, pending: 1 })], 0, false).kind,
      "finish",
    );
  });
  it("counts unreachable clusters against the failure budget, and says so in the reason", () => {
    assert.equal(
      nextStep(rollout, [counts({ unreachable: 1, pending: 1 }), counts({ pending: 3 })], 0, false).kind,
      "start",
    );
    assert.deepEqual(nextStep(rollout, [counts({ unreachable: 1, failed: 1 }), counts({ pending: 3 })], 0, false), {
      kind: "finish",
      state: "failed",
      reason: "2 of 2 clusters failed (1 unreachable) in wave canary (failure budget 1)",
    });
  });
  it("holds a finished wave for approval until continued, then advances; the last wave finishes", () => {
    assert.deepEqual(nextStep(rollout, [counts({ released: 2 }), counts({ pending: 3 })], 0, false), {
      kind: "approve",
    });
    assert.deepEqual(nextStep(rollout, [counts({ released: 2 }), counts({ pending: 3 })], 0, true), {
      kind: "advance",
      wave: 1,
    });
    assert.deepEqual(nextStep({ ...rollout, wave: 1 }, [counts({ released: 2 }), counts({ released: 3 })], 0, false), {
      kind: "finish",
      state: "succeeded",
    });
  });
});
