import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Environment } from "../config/ferry-config.js";
import type { ObjectRef } from "../kube/object-ref.js";
import type { ReleaseResult } from "../release/release-environment.js";
import { deployContext, firstLine, releaseSummary, resultComment, resultMarker, short } from "./deploy-report.js";

const merged = "3f2a9c1d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b";
const newer = "9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c";

function env(name: string, cluster: string): Environment {
  return { name, branch: "main", path: `deploy/${name}`, cluster, namespace: "shop", prune: true };
}

const web: ObjectRef = { apiVersion: "apps/v1", kind: "Deployment", namespace: "shop", name: "web" };
const svc: ObjectRef = { apiVersion: "v1", kind: "Service", namespace: "shop", name: "web" };
const ns: ObjectRef = { apiVersion: "v1", kind: "Namespace", name: "shop" };
const old: ObjectRef = { apiVersion: "v1", kind: "ConfigMap", namespace: "shop", name: "old" };

const result: ReleaseResult = { created: [ns, svc], configured: [web], unchanged: 4, pruned: [old] };

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
    const body = resultComment(merged, [{ env: env("staging", "kind-staging"), kind: "released", sha: merged, result }]);
    assert.ok(body.includes("| staging | kind-staging | ✅ deployed `3f2a9c1` | 2 | 1 | 1 | 4 |"), body);
    assert.ok(body.includes("<details><summary>staging: what changed</summary>"), body);
    assert.ok(body.includes("- **created**: `Namespace shop`, `Service shop/web`"), body);
    assert.ok(body.includes("- **configured**: `Deployment shop/web`"), body);
    assert.ok(body.includes("- **pruned**: `ConfigMap shop/old`"), body);
    assert.ok(body.includes("</details>"), body);
    assert.ok(!body.includes("<sub>"), body);
  });

  it("leaves out the details and empty lists when nothing changed", () => {
    const quiet: ReleaseResult = { created: [], configured: [web], unchanged: 3, pruned: [] };
    const body = resultComment(merged, [{ env: env("staging", "s"), kind: "released", sha: merged, result: quiet }]);
    assert.ok(!body.includes("**created**") && !body.includes("**pruned**"), body);
    const nothing = resultComment(merged, [{ env: env("staging", "s"), kind: "released", sha: merged, result: { created: [], configured: [], unchanged: 3, pruned: [] } }]);
    assert.ok(!nothing.includes("<details>"), nothing);
    assert.ok(nothing.includes("| staging | s | ✅ deployed `3f2a9c1` | 0 | 0 | 0 | 3 |"), nothing);
  });

  it("shows an environment already released at a newer commit, with a note", () => {
    const body = resultComment(merged, [{ env: env("staging", "s"), kind: "already-released", sha: newer }]);
    assert.ok(body.includes("| staging | s | ✅ included in release `9b8c7d6` | | | | |"), body);
    assert.ok(body.includes("<sub>A newer commit was already on the branch; it was released with these changes included.</sub>"), body);
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
    assert.ok(body.includes(["**production failed**; the cluster was not changed unless the error says so:", "", "```", error, "```"].join("\n")), body);
    // Rows come first, in order, then the per-environment sections.
    const rows = body.split("\n").filter((l) => l.startsWith("| staging") || l.startsWith("| production"));
    assert.equal(rows.length, 2);
    assert.ok(rows[0]?.startsWith("| staging"));
    assert.ok(body.indexOf("| production") < body.indexOf("<details>"), body);
    assert.ok(body.indexOf("<details>") < body.indexOf("**production failed**"), body);
  });
});
