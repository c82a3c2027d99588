import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Environment } from "../config/ferry-config.js";
import type { ObjectRef } from "../kube/object-ref.js";
import type { ReleaseResult } from "../domain/release.js";
import {
  deployContext,
  failureDescription,
  firstLine,
  releasedDescription,
  releaseSummary,
  resultComment,
  resultMarker,
  short,
  supersededDescription,
} from "./deploy-report.js";

const merged = "3f2a9c1d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b";
const newer = "9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c";

function env(name: string, cluster: string): Environment {
  return { name, branch: "main", path: `deploy/${name}`, cluster, namespace: "shop", prune: true };
}

const web: ObjectRef = { apiVersion: "apps/v1", kind: "Deployment", namespace: "shop", name: "web" };
const svc: ObjectRef = { apiVersion: "v1", kind: "Service", namespace: "shop", name: "web" };
const ns: ObjectRef = { apiVersion: "v1", kind: "Namespace", name: "shop" };
const old: ObjectRef = { apiVersion: "v1", kind: "ConfigMap", namespace: "shop", name: "old" };

const result: ReleaseResult = {
  created: [ns, svc],
  configured: [web],
  unchanged: 4,
  pruned: [old],
  objects: [ns, svc, web],
};

describe("short", () => {
  it("keeps the first 7 characters of a sha", () => {
    assert.equal(short(merged), "3f2a9c1");
    assert.equal(short("abc"), "abc");
  });
});

describe("firstLine", () => {
  it("keeps the first line of a message", () => {
    assert.equal(firstLine("one\ntwo\nthree"), "one");
    assert.equal(firstLine("only"), "only");
    assert.equal(firstLine(""), "");
  });
});

describe("releaseSummary", () => {
  it("counts created, configured, pruned and unchanged objects", () => {
    assert.equal(releaseSummary(result), "+2 ~1 −1 (4 unchanged)");
    assert.equal(releaseSummary({ created: [], configured: [], unchanged: 0, pruned: [] }), "+0 ~0 −0 (0 unchanged)");
  });
});

describe("deployContext", () => {
  it("names the status of an environment's deploys", () => {
    assert.equal(deployContext("staging"), "ferry/deploy/staging");
  });
});

describe("resultComment", () => {
  it("starts with the merged commit's marker and a heading", () => {
    const lines = resultComment(merged, []).split("\n");
    assert.equal(lines[0], resultMarker(merged));
    assert.equal(lines[0], `<!-- ferry:release:${merged} -->`);
    assert.equal(lines[1], "### Ferry release · `3f2a9c1`");
  });

  it("shows a released environment as a table row and a details list of what changed", () => {
    const body = resultComment(merged, [
      { env: env("staging", "kind-staging"), kind: "released", sha: merged, result },
    ]);
    assert.ok(body.includes("| staging | kind-staging | ✅ deployed `3f2a9c1` | 2 | 1 | 1 | 4 |"), body);
    assert.ok(body.includes("<details><summary>staging: what changed</summary>"), body);
    assert.ok(body.includes("- **created**: `Namespace shop`, `Service shop/web`"), body);
    assert.ok(body.includes("- **configured**: `Deployment shop/web`"), body);
    assert.ok(body.includes("- **pruned**: `ConfigMap shop/old`"), body);
    assert.ok(body.includes("</details>"), body);
    assert.ok(!body.includes("<sub>"), body);
  });

  it("says which objects a released environment left suspended, and why", () => {
    const api: ObjectRef = { ...web, name: "api" };
    const suspended = [
      { ref: web, message: "paused: not rolled out until resumed" },
      { ref: api, message: "paused: not rolled out until resumed" },
    ];
    const body = resultComment(merged, [
      { env: env("staging", "s"), kind: "released", sha: merged, result, suspended },
    ]);
    assert.ok(body.includes("| staging | s | ✅ deployed `3f2a9c1`, ⏸️ 2 suspended | 2 | 1 | 1 | 4 |"), body);
    assert.ok(
      body.includes(
        [
          "**staging** holds suspended objects, which do nothing until someone resumes them:",
          "",
          "- `Deployment shop/web`: paused: not rolled out until resumed",
          "- `Deployment shop/api`: paused: not rolled out until resumed",
        ].join("\n"),
      ),
      body,
    );
    const plain = resultComment(merged, [{ env: env("staging", "s"), kind: "released", sha: merged, result }]);
    assert.ok(!plain.includes("suspended"), plain);
  });

  it("names the objects applied without a dry-run, and the webhook of each", () => {
    const notDryRun = [{ ref: svc, webhook: "audit.example.com" }];
    const body = resultComment(merged, [
      { env: env("staging", "kind-staging"), kind: "released", sha: merged, result: { ...result, notDryRun } },
    ]);
    assert.ok(
      body.includes(
        "⚠️ **staging**: applied without a dry-run (validation.unsupportedDryRun: skip): `Service shop/web` (admission webhook `audit.example.com` does not support dry run)",
      ),
      body,
    );
    assert.ok(
      !resultComment(merged, [{ env: env("staging", "kind-staging"), kind: "released", sha: merged, result }]).includes(
        "dry-run",
      ),
    );
  });

  it("leaves out the details and empty lists when nothing changed", () => {
    const quiet: ReleaseResult = { created: [], configured: [web], unchanged: 3, pruned: [], objects: [web] };
    const body = resultComment(merged, [{ env: env("staging", "s"), kind: "released", sha: merged, result: quiet }]);
    assert.ok(!body.includes("**created**") && !body.includes("**pruned**"), body);
    const nothing = resultComment(merged, [
      {
        env: env("staging", "s"),
        kind: "released",
        sha: merged,
        result: { created: [], configured: [], unchanged: 3, pruned: [] },
      },
    ]);
    assert.ok(!nothing.includes("<details>"), nothing);
    assert.ok(nothing.includes("| staging | s | ✅ deployed `3f2a9c1` | 0 | 0 | 0 | 3 |"), nothing);
  });

  it("shows an environment already released at a newer commit, with a note", () => {
    const body = resultComment(merged, [{ env: env("staging", "s"), kind: "already-released", sha: newer }]);
    assert.ok(body.includes("| staging | s | ✅ included in release `9b8c7d6` | | | | |"), body);
    assert.ok(
      body.includes(
        "<sub>A newer commit was already on the branch; it was released with these changes included.</sub>",
      ),
      body,
    );
    assert.ok(!body.includes("<details>"), body);
  });

  it("adds no note when the already-released commit is the merged one", () => {
    const body = resultComment(merged, [{ env: env("staging", "s"), kind: "already-released", sha: merged }]);
    assert.ok(body.includes("✅ included in release `3f2a9c1`"), body);
    assert.ok(!body.includes("<sub>"), body);
  });

  it("shows a failed environment with its full error in a code block", () => {
    const error = "Deployment shop/web: invalid\nspec.replicas: must be >= 0";
    const body = resultComment(merged, [
      { env: env("staging", "s"), kind: "released", sha: merged, result },
      { env: env("production", "prod-eu"), kind: "failed", sha: merged, error },
    ]);
    assert.ok(body.includes("| production | prod-eu | ❌ failed at `3f2a9c1` | | | | |"), body);
    assert.ok(
      body.includes(
        ["**production failed**; the cluster was not changed unless the error says so:", "", "```", error, "```"].join(
          "\n",
        ),
      ),
      body,
    );
    // Rows come first, in order, then the per-environment sections.
    const rows = body.split("\n").filter((l) => l.startsWith("| staging") || l.startsWith("| production"));
    assert.equal(rows.length, 2);
    assert.ok(rows[0]?.startsWith("| staging"));
    assert.ok(body.indexOf("| production") < body.indexOf("<details>"), body);
    assert.ok(body.indexOf("<details>") < body.indexOf("**production failed**"), body);
  });

  it("shows an unreachable agent cluster as unreachable, with why", () => {
    const error = "unreachable: the agent of cluster edge-3 was not seen for 60s (agentTimeout)";
    const body = resultComment(merged, [{ env: env("edge", "edge-3"), kind: "unreachable", sha: merged, error }]);
    assert.ok(body.includes("| edge | edge-3 | 📡 unreachable at `3f2a9c1` | | | | |"), body);
    assert.ok(
      body.includes(["**edge is unreachable**: nothing is known of the cluster.", "", "```", error, "```"].join("\n")),
      body,
    );
    assert.ok(!body.includes("failed"), body);
  });

  it("shows a release applied but not healthy, its rollback as a row of its own, and both sections", () => {
    const error =
      'Deployment shop/web: ProgressDeadlineExceeded: ReplicaSet "web-74f" has timed out progressing.\nWarning FailedScheduling on Pod shop/web-74f-x: 0/2 nodes are available';
    const rolledBack: ReleaseResult = {
      created: [],
      configured: [web],
      unchanged: 2,
      pruned: [old],
      objects: [web, svc, ns],
    };
    const body = resultComment(merged, [
      {
        env: env("staging", "s"),
        kind: "failed",
        sha: merged,
        error,
        result,
        rollback: { sha: newer, state: "success", message: "", result: rolledBack },
      },
    ]);
    assert.ok(body.includes("| staging | s | ❌ not healthy at `3f2a9c1` | 2 | 1 | 1 | 4 |"), body);
    assert.ok(body.includes("| staging | s | ↩️ rolled back to `9b8c7d6` | 0 | 1 | 1 | 2 |"), body);
    assert.ok(
      body.includes(["**staging** was applied but did not become healthy:", "", "```", error, "```"].join("\n")),
      body,
    );
    assert.ok(
      body.includes("**staging** was rolled back to `9b8c7d6`, the last successful release, and is healthy again."),
      body,
    );
  });

  it("says when a rollback failed or had nothing to roll back to", () => {
    const failed = resultComment(merged, [
      {
        env: env("staging", "s"),
        kind: "failed",
        sha: merged,
        error: "Job shop/migrate: BackoffLimitExceeded",
        result,
        rollback: { sha: newer, state: "failure", message: "Deployment shop/web: not ready within 30s" },
      },
    ]);
    assert.ok(failed.includes("| staging | s | ❌ rollback to `9b8c7d6` failed | | | | |"), failed);
    assert.ok(
      failed.includes(
        [
          "**staging**: the rollback to `9b8c7d6` failed too:",
          "",
          "```",
          "Deployment shop/web: not ready within 30s",
          "```",
        ].join("\n"),
      ),
      failed,
    );
    const none = resultComment(merged, [
      {
        env: env("staging", "s"),
        kind: "failed",
        sha: merged,
        error: "Job shop/migrate: BackoffLimitExceeded",
        result,
        rollback: { state: "none", message: "no earlier successful release to roll back to" },
      },
    ]);
    assert.ok(none.includes("⚠️ not rolled back: no earlier successful release"), none);
    assert.ok(none.includes("**staging** was left as applied"), none);
  });

  it("shows a release superseded while it waited, with what it applied", () => {
    const body = resultComment(merged, [
      { env: env("staging", "s"), kind: "superseded", sha: merged, by: newer, result },
    ]);
    assert.ok(body.includes("| staging | s | ⏭️ applied `3f2a9c1`, superseded by `9b8c7d6` | 2 | 1 | 1 | 4 |"), body);
    assert.ok(body.includes("- **configured**: `Deployment shop/web`"), body);
    assert.ok(body.includes("a newer release (`9b8c7d6`) took the environment"), body);
  });
});

describe("status descriptions of health-gated releases", () => {
  const error =
    'Deployment shop/web: ProgressDeadlineExceeded: ReplicaSet "web-74f" has timed out progressing.\nmore detail';

  it("names the object and reason on the first line, and puts the rollback first so it survives trimming", () => {
    assert.equal(
      failureDescription(error),
      'Deployment shop/web: ProgressDeadlineExceeded: ReplicaSet "web-74f" has timed out progressing.',
    );
    assert.equal(
      failureDescription(error, { sha: newer, state: "success", message: "" }),
      'rolled back to 9b8c7d6: Deployment shop/web: ProgressDeadlineExceeded: ReplicaSet "web-74f" has timed out progressing.',
    );
    assert.match(
      failureDescription(error, { sha: newer, state: "failure", message: "x" }),
      /^rollback to 9b8c7d6 failed too: Deployment shop\/web/,
    );
    assert.match(
      failureDescription(error, { state: "none", message: "" }),
      /^not rolled back \(no earlier successful release\): Deployment/,
    );
  });

  it("words a release, naming what it left suspended", () => {
    const quiet = { created: [], configured: [web], unchanged: 3, pruned: [] };
    assert.equal(releasedDescription(quiet), "deployed: +0 ~1 −0 (3 unchanged)");
    assert.equal(
      releasedDescription(quiet, [{ ref: web, message: "paused" }]),
      "deployed: +0 ~1 −0 (3 unchanged); suspended: Deployment shop/web",
    );
    const three = ["a", "b", "c"].map((name) => ({ ref: { ...web, name }, message: "paused" }));
    assert.equal(
      releasedDescription(quiet, three),
      "deployed: +0 ~1 −0 (3 unchanged); suspended: Deployment shop/a and 2 more",
    );
    assert.equal(
      releasedDescription(quiet, [], "included in release of 3f2a9c1"),
      "included in release of 3f2a9c1: +0 ~1 −0 (3 unchanged)",
    );
  });

  it("reports a superseded release as included in the newer one", () => {
    assert.equal(supersededDescription(newer), "superseded by 9b8c7d6: its release includes this commit");
  });
});
