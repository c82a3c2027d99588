import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AuditRecord } from "./audit-record.js";
import { auditObjects } from "./audit-objects.js";
import { changeCounts, historyTable } from "./history-table.js";

const ref = (i: number) => ({ apiVersion: "v1", kind: "ConfigMap", namespace: "shop", name: `c-${i}` });

describe("auditObjects", () => {
  it("names objects as people do, keeping at most 100 names a list and counting the rest", () => {
    const objects = auditObjects({
      created: Array.from({ length: 130 }, (_, i) => ref(i)),
      configured: [{ apiVersion: "v1", kind: "Namespace", name: "shop" }],
      pruned: [{ apiVersion: "v1", kind: "Secret", namespace: "shop", name: "db" }],
      unchanged: 4,
    });
    assert.equal(objects.created.length, 100);
    assert.equal(objects.created[0], "ConfigMap shop/c-0");
    assert.deepEqual(
      [objects.configured, objects.pruned, objects.omitted],
      [["Namespace shop"], ["Secret shop/db"], { created: 30 }],
    );
  });
});

describe("historyTable", () => {
  const record = (extra: Partial<AuditRecord>): AuditRecord => ({
    v: 1,
    action: "release",
    actor: "octocat",
    forge: "github",
    repository: "acme/shop",
    environment: "production",
    finishedAt: "2026-12-06T09:12:07.903Z",
    outcome: "released",
    prevHash: "",
    ...extra,
  });

  it("prints one aligned row per record, counting objects with those left out", () => {
    const objects = auditObjects({
      created: Array.from({ length: 101 }, (_, i) => ref(i)),
      configured: [],
      pruned: [ref(0)],
      unchanged: 0,
    });
    assert.equal(changeCounts(record({ objects })), "+101 ~0 −1");
    const table = historyTable([
      record({ cluster: "eu-1", sha: "8f14e45fceea167a5a36dedd4bea2543d5b0e1c2", change: 7, objects }),
      record({
        environment: "*",
        action: "refused-command",
        actor: "mallory",
        outcome: "refused",
        reason: "read access\nmore",
      }),
    ]);
    assert.deepEqual(table.split("\n"), [
      "FINISHED (UTC)        ENV         CLUSTER  ACTION           OUTCOME   COMMIT   WHO      CHANGE  OBJECTS     REASON",
      "2026-12-06 09:12:07Z  production  eu-1     release          released  8f14e45  octocat  #7      +101 ~0 −1",
      "2026-12-06 09:12:07Z  *           -        refused-command  refused   -        mallory  -       -           read access",
    ]);
  });
});
