import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { driftClosedComment, driftIssueBody, driftIssueMarker, driftIssueTitle } from "./drift-issue.js";
import type { ClusterVerdict } from "./drift-status.js";

const at = Date.UTC(2026, 11, 6, 12, 4, 30);
const verdict = (cluster: string, extra: Partial<ClusterVerdict> = {}): ClusterVerdict => ({
  cluster,
  sha: "abcdef1".padEnd(40, "0"),
  drifted: 0,
  checkedAt: at,
  until: at + 60_000,
  ...extra,
});

describe("the drift issue", () => {
  it("lists each drifted cluster's objects field by field, with who changed them and when, then how to heal", () => {
    const body = driftIssueBody(
      "production",
      "main",
      [
        verdict("us"),
        verdict("eu", {
          drifted: 2,
          objects: [
            {
              object: "Deployment shop/web",
              kind: "drifted",
              fields: [
                {
                  path: "spec.replicas",
                  desired: "2",
                  live: "5",
                  manager: "kubectl-edit",
                  operation: "Update",
                  time: "2026-12-06T12:01:00Z",
                },
              ],
            },
            { object: "ConfigMap shop/flags", kind: "gone" },
          ],
        }),
      ],
      65_536,
    );
    assert.ok(body.startsWith(driftIssueMarker("production")));
    assert.equal(driftIssueTitle("production"), "Drift in production");
    assert.match(body, /#### eu · released `abcdef1` · 2 objects drifted/);
    assert.doesNotMatch(body, /#### us/, "clusters in sync are not listed");
    assert.match(
      body,
      /\| `Deployment shop\/web` \| `spec\.replicas` \| `2` \| `5` \| `kubectl-edit` \(Update\) \| 2026-12-06T12:01:00Z \|/,
    );
    assert.match(body, /\| `ConfigMap shop\/flags` \| \*deleted\* \|/);
    assert.match(body, /comment `\/ferry heal production` on a pull request into `main`/);
    assert.doesNotMatch(body, /12:04/, "no check time: an unchanged drift leaves the issue unedited");
  });

  it("keeps table cells whole and the body under the forge's limit", () => {
    const fields = Array.from({ length: 12 }, (_, i) => ({ path: `data.k${i}`, desired: '"a|b"', live: "`x`" }));
    const body = driftIssueBody(
      "staging",
      "main",
      [verdict("eu", { drifted: 1, objects: [{ object: "ConfigMap shop/x", kind: "drifted", fields }] })],
      100_000,
    );
    assert.match(body, /`"a\\\|b"` \| `'x'`/);
    assert.match(body, /\*and 2 more fields\*/);
    assert.ok(
      driftIssueBody(
        "staging",
        "main",
        [verdict("eu", { drifted: 1, objects: [{ object: "ConfigMap shop/x", kind: "drifted", fields }] })],
        300,
      ).length <= 300,
    );
  });

  it("closes saying the environment is back in sync, and what a heal restored", () => {
    assert.equal(
      driftClosedComment(verdict("eu", { healed: 1 })),
      "Back in sync: healed 1 object on eu; every cluster holds what its last release applied (checked 2026-12-06 12:04 UTC).",
    );
  });
});
