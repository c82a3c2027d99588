import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { driftStatus, healAnswer, type ClusterVerdict } from "./drift-status.js";

const at = Date.UTC(2026, 11, 6, 12, 4, 30);
const verdict = (cluster: string, extra: Partial<ClusterVerdict> = {}): ClusterVerdict => ({
  cluster,
  sha: "a".repeat(40),
  drifted: 0,
  checkedAt: at,
  until: at + 60_000,
  ...extra,
});
const line = "1 object drifted: Deployment shop/web spec.replicas 3→5 by kubectl-edit";

describe("driftStatus", () => {
  it("words one cluster: in sync with the time checked, healed, or the drift's own line", () => {
    assert.deepEqual(driftStatus([verdict("eu")], verdict("eu")), {
      state: "success",
      description: "in sync (checked 12:04 UTC)",
    });
    const healed = verdict("eu", { healed: 2 });
    assert.deepEqual(driftStatus([healed], healed), {
      state: "success",
      description: "healed 2 objects (checked 12:04 UTC)",
    });
    const drifted = verdict("eu", { drifted: 1, summary: line });
    assert.deepEqual(driftStatus([drifted], drifted), { state: "failure", description: line });
  });

  it("fails a fleet while any cluster drifted, naming how many and the first, within 140 characters", () => {
    const verdicts = [
      verdict("us"),
      verdict("eu-2", { drifted: 1, summary: line }),
      verdict("eu-1", { drifted: 3, summary: `3 objects drifted: ${"ConfigMap shop/x".repeat(10)}` }),
    ];
    const status = driftStatus(verdicts, verdict("us"));
    assert.equal(status.state, "failure");
    assert.match(status.description, /^2 of 3 clusters drifted; eu-1: 3 objects drifted: ConfigMap/);
    assert.ok(status.description.length <= 140);
    assert.deepEqual(driftStatus([verdict("us"), verdict("eu")], verdict("eu")), {
      state: "success",
      description: "in sync on 2 clusters (checked 12:04 UTC)",
    });
  });

  it("never says in sync while a cluster could not be checked (its agent unreachable); drift still comes first", () => {
    const reason = "unreachable: the agent of cluster edge-1 was not seen for 60s (agentTimeout)";
    const away = verdict("edge-1", { unreachable: reason });
    assert.deepEqual(driftStatus([away], away), { state: "failure", description: `not checked: ${reason}` });
    const fleet = driftStatus([verdict("edge-2"), away], verdict("edge-2"));
    assert.equal(fleet.state, "failure");
    assert.match(fleet.description, /^1 of 2 clusters not checked: unreachable: the agent of cluster edge-1/);
    assert.ok(fleet.description.length <= 140);
    const drifted = verdict("edge-2", { drifted: 1, summary: line });
    assert.deepEqual(driftStatus([drifted, away], drifted), {
      state: "failure",
      description: `1 of 2 clusters drifted; edge-2: ${line}`,
    });
  });
});

describe("healAnswer", () => {
  it("says per cluster what was restored, that it was in sync, or why it was not healed", () => {
    const text = healAnswer("lead", [
      { environment: "production", cluster: "eu", restored: ["Deployment shop/web"] },
      { environment: "production", cluster: "us", restored: [] },
      { environment: "staging", cluster: "eu", reason: "nothing was successfully released there yet" },
    ]);
    assert.match(text, /^@lead healed drift/);
    assert.match(text, /\*\*production\*\* on eu: restored 1 object \(`Deployment shop\/web`\)/);
    assert.match(text, /\*\*production\*\* on us: in sync, nothing to heal/);
    assert.match(text, /\*\*staging\*\* on eu: not healed: nothing was successfully released there yet/);
  });
});
