import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RolloutSummary } from "../domain/rollout.js";
import { releaseAuditEntries } from "./release-audit-entries.js";

const sha = "3f2a9c1d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b";
const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);
const rollout: RolloutSummary = {
  id: "AAAAAAAAAAAAAAAAAAAAAA",
  repo: { forge: "github", fullName: "acme/shop" },
  environment: "production",
  branch: "main",
  sha,
  actor: "alice",
  delivery: "d1",
  single: false,
  state: "running",
  wave: 0,
  createdAt: T0,
};
const times = { startedAt: T0, finishedAt: T0 + 60_000 };

describe("releaseAuditEntries", () => {
  it("records an unreachable agent cluster as unreachable, with why, and no rollback", () => {
    const error = "unreachable: the agent of cluster edge-3 was not seen for 60s (agentTimeout)";
    const entries = releaseAuditEntries(rollout, "edge-3", { kind: "unreachable", sha, error }, times, 7);
    assert.deepEqual(entries, [
      {
        actor: "alice",
        forge: "github",
        repository: "acme/shop",
        environment: "production",
        cluster: "edge-3",
        change: 7,
        rollout: rollout.id,
        startedAt: "2025-06-01T12:00:00.000Z",
        finishedAt: "2025-06-01T12:01:00.000Z",
        action: "release",
        sha,
        outcome: "unreachable",
        reason: error,
      },
    ]);
  });

  it("records a failed release and its rollback apart", () => {
    const entries = releaseAuditEntries(
      rollout,
      "eu-1",
      {
        kind: "failed",
        sha,
        error: "Deployment shop/web not available",
        rollback: { state: "success", sha: "abcdef1234", message: "" },
      },
      times,
    );
    assert.deepEqual(
      entries.map((e) => [e.action, e.outcome, e.reason]),
      [
        ["release", "failed", "Deployment shop/web not available"],
        ["rollback", "success", `after the failed release of ${sha}`],
      ],
    );
  });
});
