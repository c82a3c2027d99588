import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ClusterProgress, Rollout, RolloutState } from "../domain/rollout.js";
import { fleetSection, LISTED_FAILURES, markdownText } from "./fleet-comment.js";
import type { RolloutView } from "./fleet-status.js";

const sha = "3f2a9c1d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b";
const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);
const MIN = 60_000;
const page = "https://ferry.example.com/rollouts/AAAAAAAAAAAAAAAAAAAAAA";
const GITHUB = 65_536;

function rollout(waves: [string, number][], state: RolloutState, wave: number): Rollout {
  let n = 0;
  return {
    id: "AAAAAAAAAAAAAAAAAAAAAA",
    repo: { forge: "github", fullName: "acme/shop" },
    environment: "production",
    branch: "main",
    sha,
    actor: "alice",
    delivery: "d1",
    single: false,
    waves: waves.map(([name, size], index) => ({
      index,
      name,
      clusters: Array.from({ length: size }, () => `${name}-${++n}`),
      maxParallel: 5,
      failureBudget: 1,
      approval: false,
    })),
    state,
    wave,
    createdAt: T0,
  };
}

const released = (cluster: string, wave: number, minutes = 1): ClusterProgress => ({
  cluster,
  wave,
  state: "released",
  startedAt: T0,
  finishedAt: T0 + minutes * MIN,
  outcome: { kind: "released", sha, result: { created: [], configured: [], unchanged: 3, pruned: [] } },
});
const failed = (
  cluster: string,
  wave: number,
  error: string,
  rollback?: Extract<ClusterProgress["outcome"], { kind: "failed" }>["rollback"],
): ClusterProgress => ({
  cluster,
  wave,
  state: "failed",
  startedAt: T0,
  finishedAt: T0 + 2 * MIN,
  outcome: { kind: "failed", sha, error, ...(rollback ? { rollback } : {}) },
});
const skipped = (cluster: string, wave: number): ClusterProgress => ({
  cluster,
  wave,
  state: "skipped",
  outcome: { kind: "skipped", sha, reason: "halted" },
});

/** A production rollout halted in its second wave: canary done, eu with two failures, us not touched. */
function halted(): RolloutView {
  return {
    rollout: rollout(
      [
        ["canary", 2],
        ["eu", 4],
        ["us", 3],
      ],
      "failed",
      1,
    ),
    clusters: [
      released("canary-1", 0),
      released("canary-2", 0, 3),
      released("eu-3", 1),
      failed("eu-4", 1, "Deployment shop/web not available after 5m\n  pod web-1: ImagePullBackOff", {
        state: "success",
        sha: "abcdef1234567",
        message: "",
      }),
      failed("eu|5 `x` <b>", 1, "quota | exceeded: `limits.cpu` <script>\nmore"),
      skipped("eu-6", 1),
      skipped("us-7", 2),
      skipped("us-8", 2),
      skipped("us-9", 2),
    ],
  };
}

describe("markdownText", () => {
  it("keeps text on one line and inert: no HTML, no table cell ends, no code spans or links", () => {
    assert.equal(
      markdownText("a|b `c` <d> [e](f)\nnext\r\nline & *g*"),
      "a\\|b \\`c\\` &lt;d&gt; \\[e\\](f) next line &amp; \\*g\\*",
    );
  });
});

describe("fleetSection", () => {
  it("heads the section with the environment, the status words and a link to the rollout page", () => {
    const lines = fleetSection(halted(), page, GITHUB).split("\n");
    assert.equal(
      lines[0],
      `#### ❌ production · halted in wave 2/3 (eu): 2 failed (budget 1), 4 clusters not touched · [rollout page](${page})`,
    );
  });

  it("has a row per wave with its counts, state and duration", () => {
    const section = fleetSection(halted(), page, GITHUB);
    assert.ok(
      section.includes(
        "| wave | clusters | released | failed | not touched | state | duration |\n| --- | ---: | ---: | ---: | ---: | --- | ---: |\n",
      ),
      section,
    );
    assert.ok(section.includes("| 1 · canary | 2 | 2 | 0 | 0 | ✅ done | 3m 0s |"), section);
    assert.ok(section.includes("| 2 · eu | 4 | 1 | 2 | 1 | ❌ halted | 2m 0s |"), section);
    assert.ok(section.includes("| 3 · us | 3 | 0 | 0 | 3 | ➖ not started |  |"), section);
  });

  it("shows a running wave's clusters still releasing, timed until now", () => {
    const view: RolloutView = {
      rollout: rollout(
        [
          ["canary", 1],
          ["eu", 3],
        ],
        "running",
        1,
      ),
      clusters: [
        released("canary-1", 0),
        released("eu-2", 1),
        { cluster: "eu-3", wave: 1, state: "releasing", startedAt: T0 + MIN },
        { cluster: "eu-4", wave: 1, state: "pending" },
      ],
    };
    const section = fleetSection(view, page, GITHUB, T0 + 5 * MIN);
    assert.ok(section.startsWith("#### 🔄 production · wave 2/2 (eu): 2/4 clusters released · "), section);
    assert.ok(section.includes("| 2 · eu | 3 | 1 | 0 | 1 | 🔄 running (1 releasing) | 5m 0s |"), section);
    assert.ok(!section.includes("Failed clusters"));
  });

  it("lists failed clusters with the first line of their error and their rollback, escaped", () => {
    const section = fleetSection(halted(), page, GITHUB);
    assert.ok(section.includes("**Failed clusters** (2):\n\n"), section);
    assert.ok(
      section.includes(
        "- **eu-4** (wave 2 · eu): rolled back to abcdef1: Deployment shop/web not available after 5m\n",
      ),
      section,
    );
    assert.ok(
      section.includes(
        "- **eu\\|5 \\`x\\` &lt;b&gt;** (wave 2 · eu): quota \\| exceeded: \\`limits.cpu\\` &lt;script&gt;",
      ),
      section,
    );
    assert.ok(!section.includes("ImagePullBackOff"), "only the first line");
    assert.ok(!section.includes("<script>") && !section.includes("<b>"));
    assert.ok(!section.includes("more]("), "no link when every failure is listed");
  });

  it("lists unreachable clusters with the failed ones, counts them against the budget and says why", () => {
    const view: RolloutView = {
      rollout: rollout([["edge", 3]], "failed", 0),
      clusters: [
        released("edge-1", 0),
        failed("edge-2", 0, "Deployment shop/web not available after 5m"),
        {
          cluster: "edge-3",
          wave: 0,
          state: "unreachable",
          startedAt: T0,
          finishedAt: T0 + MIN,
          outcome: { kind: "unreachable", sha, error: "unreachable: the agent of cluster edge-3 was not seen for 60s" },
        },
      ],
    };
    const section = fleetSection(view, page, GITHUB);
    assert.ok(section.includes("halted in wave 1/1 (edge): 1 failed, 1 unreachable (budget 1)"), section);
    assert.ok(section.includes("| 1 · edge | 3 | 1 | 2 | 0 | ❌ halted (1 unreachable) |"), section);
    assert.ok(section.includes("**Failed or unreachable clusters** (2):\n\n"), section);
    assert.ok(
      section.includes("- **edge-3** (wave 1 · edge): unreachable: the agent of cluster edge-3 was not seen for 60s"),
      section,
    );
    const tight = fleetSection(view, page, section.length - 1);
    assert.ok(
      tight.includes(
        `**2 failed or unreachable clusters**: [see them on the rollout page](${page}?state=failed,unreachable)`,
      ),
      tight,
    );
  });

  it(`lists the first ${LISTED_FAILURES} failures and links the rest`, () => {
    const view: RolloutView = {
      rollout: rollout([["all", 30]], "failed", 0),
      clusters: Array.from({ length: 30 }, (_, i) => failed(`c-${i}`, 0, `broke ${i}`)),
    };
    const section = fleetSection(view, page, GITHUB);
    assert.equal(section.match(/^- \*\*c-/gm)?.length, LISTED_FAILURES);
    assert.ok(
      section.includes("- **c-19** (wave 1 · all): broke 19\n- [and 10 more](" + page + "?state=failed)"),
      section,
    );
  });

  it("never exceeds maxLength: 10,000 clusters, 10,000 failures with long reasons", () => {
    const reason = `${"the apiserver refused the object | `x` <y> ".repeat(200)}\nsecond line`;
    const clusters = Array.from({ length: 10_000 }, (_, i) =>
      failed(`cluster-${"n".repeat(200)}-${i}`, Math.floor(i / 1000), reason, {
        state: "failure",
        sha: "abcdef1",
        message: "x".repeat(5000),
      }),
    );
    const view: RolloutView = {
      rollout: rollout(
        Array.from({ length: 10 }, (_, i): [string, number] => [`wave-${i}`, 1000]),
        "failed",
        0,
      ),
      clusters,
    };
    for (const max of [GITHUB, 10_000, 4_000, 1_000, 400]) {
      const section = fleetSection(view, page, max);
      assert.ok(section.length <= max, `${section.length} > ${max}`);
      assert.ok(
        section.startsWith("#### ❌ production · halted in wave 1/10 (wave-0): 1000 failed (budget 1)"),
        section.slice(0, 200),
      );
      const listed = section.match(/^- \*\*cluster-/gm)?.length ?? 0;
      const link =
        listed > 0
          ? `- [and ${10_000 - listed} more](${page}?state=failed)`
          : `**10000 failed clusters**: [see them on the rollout page](${page}?state=failed)`;
      assert.ok(section.includes(link), `the failures not listed are linked at ${max}`);
      if (max === GITHUB) assert.equal(listed, LISTED_FAILURES);
    }
    assert.ok(
      fleetSection(view, page, 4_000).match(/^- \*\*cluster-/gm)?.length,
      "a few failures still fit in 4,000 characters",
    );
    assert.ok(fleetSection(view, page, 100).length <= 100);
  });

  it("cuts wave rows, then the heading, when even they do not fit", () => {
    const waves = Array.from({ length: 5_000 }, (_, i): [string, number] => [`w${i}`, 2]);
    const view: RolloutView = {
      rollout: rollout(waves, "waiting", 0),
      clusters: waves.flatMap(([name], i) =>
        [0, 1].map((j): ClusterProgress => ({ cluster: `${name}-${j}`, wave: i, state: "pending" })),
      ),
    };
    const section = fleetSection(view, page, 5_000);
    assert.ok(section.length <= 5_000, String(section.length));
    assert.match(section, /\n\[and \d+ more waves\]\(https:\/\/ferry\.example\.com\/rollouts\/A{22}\)$/);
    assert.ok(fleetSection(view, page, 50).length <= 50);
  });
});
