import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ClusterProgress, ClusterState, Rollout, RolloutState } from "../domain/rollout.js";
import {
  clusterCounts,
  countsText,
  emptyCounts,
  fleetStatus,
  formatDuration,
  STATUS_LENGTH,
  waveSummaries,
  type RolloutView,
} from "./fleet-status.js";

const sha = "3f2a9c1d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b";
const newer = "9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c";
const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);
const MIN = 60_000;

/** A production rollout over waves of these sizes, every cluster pending, in state `state` at wave `wave`. */
function fleet(
  sizes: [string, number][],
  state: RolloutState,
  wave: number,
  extra: Partial<Rollout> = {},
): RolloutView {
  let n = 0;
  const waves = sizes.map(([name, size], index) => ({
    index,
    name,
    clusters: Array.from({ length: size }, () => `${name}-${++n}`),
    maxParallel: 5,
    failureBudget: 1,
    approval: false,
  }));
  const rollout: Rollout = {
    id: "AAAAAAAAAAAAAAAAAAAAAA",
    repo: { forge: "github", fullName: "acme/shop" },
    environment: "production",
    branch: "main",
    sha,
    actor: "alice",
    delivery: "d1",
    after: "staging",
    single: false,
    waves,
    state,
    wave,
    createdAt: T0,
    ...extra,
  };
  const clusters = waves.flatMap((w) =>
    w.clusters.map((cluster): ClusterProgress => ({ cluster, wave: w.index, state: "pending" })),
  );
  return { rollout, clusters };
}

/** Moves the first `n` still-pending clusters of wave `wave` to `state`, each taking a minute from `from`. */
function mark(view: RolloutView, wave: number, n: number, state: ClusterState, from = T0): RolloutView {
  let left = n;
  for (const c of view.clusters) {
    if (left === 0) break;
    if (c.wave !== wave || c.state !== "pending") continue;
    left--;
    c.state = state;
    if (state === "skipped") {
      c.outcome = { kind: "skipped", sha, reason: "halted" };
      continue;
    }
    c.startedAt = from;
    if (state === "releasing") continue;
    c.finishedAt = from + MIN;
    if (state === "released")
      c.outcome = { kind: "released", sha, result: { created: [], configured: [], unchanged: 3, pruned: [] } };
    if (state === "failed") c.outcome = { kind: "failed", sha, error: "Deployment shop/web not available\nafter 5m" };
    if (state === "unreachable")
      c.outcome = {
        kind: "unreachable",
        sha,
        error: `unreachable: the agent of cluster ${c.cluster} was not seen for 60s`,
      };
  }
  assert.equal(left, 0, "not enough pending clusters");
  return view;
}

describe("clusterCounts", () => {
  it("counts every state, zero included", () => {
    const view = mark(
      mark(
        fleet(
          [
            ["canary", 2],
            ["eu", 3],
          ],
          "running",
          1,
        ),
        0,
        2,
        "released",
      ),
      1,
      1,
      "failed",
    );
    assert.deepEqual(clusterCounts(view.clusters), { ...emptyCounts(), released: 2, failed: 1, pending: 2 });
    assert.deepEqual(clusterCounts([]), {
      pending: 0,
      releasing: 0,
      released: 0,
      "already-released": 0,
      superseded: 0,
      skipped: 0,
      failed: 0,
      unreachable: 0,
    });
  });

  it("writes released with already-released, and failed and superseded only when there are any", () => {
    assert.equal(
      countsText({ ...emptyCounts(), released: 30, "already-released": 8, failed: 1, pending: 1 }),
      "38/40 clusters released, 1 failed",
    );
    assert.equal(countsText({ ...emptyCounts(), released: 1 }), "1/1 cluster released");
    assert.equal(
      countsText({ ...emptyCounts(), released: 2, failed: 1, unreachable: 1 }),
      "2/4 clusters released, 1 failed, 1 unreachable",
    );
    assert.equal(countsText({ ...emptyCounts(), released: 1, superseded: 2 }), "1/3 clusters released, 2 superseded");
  });
});

describe("waveSummaries", () => {
  it("counts, states and times each wave", () => {
    const view = fleet(
      [
        ["canary", 2],
        ["eu", 37],
        ["apac", 1],
      ],
      "running",
      1,
    );
    mark(view, 0, 2, "released", T0);
    mark(view, 1, 30, "released", T0 + 3 * MIN);
    mark(view, 1, 1, "failed", T0 + 4 * MIN);
    mark(view, 1, 2, "releasing", T0 + 5 * MIN);
    const [canary, eu, apac] = waveSummaries(view, T0 + 10 * MIN);
    assert.equal(canary?.state, "done");
    assert.equal(canary?.durationMs, MIN);
    assert.equal(canary?.finishedAt, T0 + MIN);
    assert.equal(eu?.state, "running");
    assert.deepEqual(eu?.counts, { ...emptyCounts(), released: 30, failed: 1, releasing: 2, pending: 4 });
    assert.equal(eu?.total, 37);
    assert.equal(eu?.durationMs, 7 * MIN, "a running wave runs until now");
    assert.equal(eu?.finishedAt, undefined);
    assert.equal(apac?.state, "waiting");
    assert.equal(apac?.durationMs, undefined);
  });

  it("tells a halted wave from the waves never started", () => {
    const view = fleet(
      [
        ["canary", 2],
        ["eu", 3],
        ["us", 2],
      ],
      "failed",
      1,
    );
    mark(mark(mark(view, 0, 2, "released"), 1, 2, "failed"), 1, 1, "skipped");
    mark(view, 2, 2, "skipped");
    assert.deepEqual(
      waveSummaries(view).map((w) => w.state),
      ["done", "halted", "not started"],
    );
  });

  it("keeps a wave done when the rollout was aborted after it", () => {
    const view = fleet(
      [
        ["canary", 2],
        ["eu", 3],
      ],
      "aborted",
      0,
    );
    mark(mark(view, 0, 2, "released"), 1, 3, "skipped");
    assert.deepEqual(
      waveSummaries(view).map((w) => w.state),
      ["done", "not started"],
    );
    const during = fleet(
      [
        ["canary", 2],
        ["eu", 3],
      ],
      "aborted",
      1,
    );
    mark(mark(mark(during, 0, 2, "released"), 1, 1, "released"), 1, 2, "skipped");
    assert.deepEqual(
      waveSummaries(during).map((w) => w.state),
      ["done", "aborted"],
    );
  });

  it("has every wave waiting, or not started when blocked", () => {
    assert.deepEqual(
      waveSummaries(
        fleet(
          [
            ["a", 1],
            ["b", 1],
          ],
          "waiting",
          0,
        ),
      ).map((w) => w.state),
      ["waiting", "waiting"],
    );
    assert.deepEqual(
      waveSummaries(
        fleet(
          [
            ["a", 1],
            ["b", 1],
          ],
          "blocked",
          0,
        ),
      ).map((w) => w.state),
      ["not started", "not started"],
    );
  });
});

describe("formatDuration", () => {
  it("writes seconds, minutes and hours", () => {
    assert.equal(formatDuration(42_400), "42s");
    assert.equal(formatDuration(192_000), "3m 12s");
    assert.equal(formatDuration(3_900_000), "1h 5m");
  });
});

describe("fleetStatus", () => {
  it("is pending while waiting for the environment before", () => {
    assert.deepEqual(
      fleetStatus(
        fleet(
          [
            ["canary", 2],
            ["eu", 38],
          ],
          "waiting",
          0,
        ),
      ),
      { state: "pending", description: "waiting for staging to release 3f2a9c1" },
    );
  });

  it("is running with the wave and the fleet's counts", () => {
    const view = fleet(
      [
        ["canary", 2],
        ["eu", 37],
        ["apac", 1],
      ],
      "running",
      1,
    );
    mark(mark(mark(view, 0, 2, "released"), 1, 36, "released"), 1, 1, "failed");
    assert.deepEqual(fleetStatus(view), {
      state: "running",
      description: "wave 2/3 (eu): 38/40 clusters released, 1 failed",
    });
  });

  it("says when a paused rollout goes on", () => {
    const view = mark(
      fleet(
        [
          ["canary", 2],
          ["eu", 20],
          ["us", 18],
        ],
        "paused",
        0,
        { pausedUntil: T0 + 3.5 * MIN },
      ),
      0,
      2,
      "released",
    );
    assert.deepEqual(fleetStatus(view, T0), {
      state: "running",
      description: "wave 1/3 (canary) done; wave 2 (eu) starts in 4m or on /ferry continue",
    });
  });

  it("names the command an approval waits for", () => {
    const view = mark(
      fleet(
        [
          ["canary", 2],
          ["eu", 20],
          ["us", 18],
        ],
        "awaiting-approval",
        0,
      ),
      0,
      2,
      "released",
    );
    assert.deepEqual(fleetStatus(view), {
      state: "running",
      description: "wave 1/3 (canary) done; /ferry continue production starts wave 2 (eu)",
    });
  });

  it("succeeds with every cluster, already-released ones included", () => {
    const view = fleet(
      [
        ["canary", 2],
        ["eu", 20],
        ["us", 18],
      ],
      "succeeded",
      2,
    );
    mark(mark(mark(view, 0, 2, "released"), 1, 20, "released"), 2, 10, "released");
    mark(view, 2, 8, "already-released");
    assert.deepEqual(fleetStatus(view), {
      state: "success",
      description: "deployed 3f2a9c1 to 40/40 clusters in 3 waves",
    });
  });

  it("fails with the halted wave's failures against its budget, and what was not touched", () => {
    const view = fleet(
      [
        ["canary", 2],
        ["eu", 20],
        ["us", 12],
      ],
      "failed",
      1,
    );
    mark(mark(mark(view, 0, 2, "released"), 1, 18, "released"), 1, 2, "failed");
    mark(view, 2, 12, "skipped");
    assert.deepEqual(fleetStatus(view), {
      state: "failure",
      description: "halted in wave 2/3 (eu): 2 failed (budget 1), 12 clusters not touched",
    });
  });

  it("counts unreachable clusters apart from failed ones, both against the budget", () => {
    const view = fleet(
      [
        ["canary", 2],
        ["eu", 20],
      ],
      "failed",
      1,
    );
    mark(mark(mark(mark(view, 0, 1, "released"), 0, 1, "unreachable"), 1, 18, "released"), 1, 1, "failed");
    mark(view, 1, 1, "unreachable");
    assert.deepEqual(fleetStatus(view), {
      state: "failure",
      description: "halted in wave 2/2 (eu): 1 failed, 1 unreachable (budget 1), 0 clusters not touched",
    });
    const running = { ...view, rollout: { ...view.rollout, state: "running" as const } };
    assert.deepEqual(fleetStatus(running), {
      state: "running",
      description: "wave 2/2 (eu): 19/22 clusters released, 1 failed, 2 unreachable",
    });
  });

  it("fails with the abort's reason and the counts", () => {
    const view = fleet(
      [
        ["canary", 2],
        ["eu", 38],
      ],
      "aborted",
      1,
      { reason: "aborted by @alice" },
    );
    mark(mark(view, 0, 2, "released"), 1, 10, "released");
    mark(view, 1, 28, "skipped");
    assert.deepEqual(fleetStatus(view), {
      state: "failure",
      description: "aborted by @alice: 12/40 clusters released, 28 not touched",
    });
  });

  it("keeps the counts when an abort's reason is long", () => {
    const view = mark(
      fleet([["all", 40]], "aborted", 0, { reason: `aborted by @alice: ${"x".repeat(300)}\nsecond line` }),
      0,
      40,
      "skipped",
    );
    const { description } = fleetStatus(view);
    assert.equal(description.length, STATUS_LENGTH);
    assert.ok(description.endsWith("…: 0/40 clusters released, 40 not touched"), description);
  });

  it("succeeds when superseded, as a single cluster's release does", () => {
    const view = fleet(
      [
        ["canary", 2],
        ["eu", 38],
      ],
      "superseded",
      1,
      { supersededBy: newer },
    );
    mark(mark(view, 0, 2, "released"), 1, 10, "released");
    assert.deepEqual(fleetStatus(view), {
      state: "success",
      description: "superseded by 9b8c7d6 after 12/40 clusters: its rollout includes this commit",
    });
  });

  it("fails when blocked, with the first line of the reason", () => {
    const view = fleet([["all", 40]], "blocked", 0, { reason: "halted in wave 1/2 (canary)\nsee the staging rollout" });
    assert.deepEqual(fleetStatus(view), {
      state: "failure",
      description: "not released: staging did not release 3f2a9c1 (halted in wave 1/2 (canary))",
    });
    const long = fleetStatus(fleet([["all", 40]], "blocked", 0, { reason: "r".repeat(500) })).description;
    assert.equal(long.length, STATUS_LENGTH);
    assert.ok(long.endsWith("…)"), long);
  });

  it("never exceeds GitHub's 140 characters, whatever the names", () => {
    const name = "w".repeat(200);
    for (const state of [
      "waiting",
      "running",
      "paused",
      "awaiting-approval",
      "succeeded",
      "failed",
      "aborted",
      "superseded",
      "blocked",
    ] as const) {
      const view = fleet(
        [
          [name, 3],
          [name, 3],
        ],
        state,
        0,
        {
          environment: "e".repeat(200),
          after: "s".repeat(200),
          reason: "r".repeat(300),
          supersededBy: newer,
          pausedUntil: T0 + MIN,
        },
      );
      assert.ok(fleetStatus(view, T0).description.length <= STATUS_LENGTH, state);
    }
  });
});
