import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { formatFieldPath } from "./field-path.js";
import { readManagedFields } from "./managed-fields.js";

function load(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(import.meta.dirname, "testdata", `${name}.json`), "utf8")) as Record<
    string,
    unknown
  >;
}

describe("readManagedFields", () => {
  it("reads each entry of a live object with its manager, operation, subresource and time", () => {
    const entries = readManagedFields(load("deployment-scaled"));
    assert.deepEqual(
      entries.map(({ manager, operation, subresource, time }) => ({
        manager,
        operation,
        subresource,
        time: time !== undefined,
      })),
      [
        { manager: "ferry", operation: "Apply", subresource: undefined, time: true },
        // kubectl scale writes through the scale subresource, and the server records no time for it.
        { manager: "kubectl", operation: "Update", subresource: "scale", time: false },
        { manager: "kube-controller-manager", operation: "Update", subresource: "status", time: true },
      ],
    );
    assert.deepEqual(entries[1]?.fields.paths().map(formatFieldPath), ["spec.replicas"]);
  });

  it("reads nothing from an object whose managedFields were reset", () => {
    assert.deepEqual(readManagedFields(load("deployment-fields-reset")), []);
    assert.deepEqual(readManagedFields({}), []);
  });

  it("skips entries it cannot read", () => {
    const object = {
      metadata: {
        managedFields: [
          null,
          { manager: "x", fieldsType: "FieldsV2", fieldsV1: {} },
          { fieldsV1: {} },
          { manager: "y", fieldsV1: { "f:a": {} } },
        ],
      },
    };
    const entries = readManagedFields(object);
    assert.deepEqual(
      entries.map((e) => [e.manager, e.operation]),
      [["y", "Update"]],
    );
  });
});
