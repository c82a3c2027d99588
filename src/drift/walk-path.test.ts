import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { formatFieldPath, type FieldPath } from "./field-path.js";
import { readManagedFields } from "./managed-fields.js";
import { walkPath } from "./walk-path.js";

function load(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(import.meta.dirname, "testdata", `${name}.json`), "utf8")) as Record<
    string,
    unknown
  >;
}

const web: FieldPath = [
  { field: "spec" },
  { field: "template" },
  { field: "spec" },
  { field: "containers" },
  { key: { name: "web" } },
];

describe("walkPath", () => {
  it("finds every field each manager owns in the live object it was read from", () => {
    // A Secret's stringData is written, never stored: Ferry owns it, the server keeps it as data.
    const stored = (path: FieldPath) => !formatFieldPath(path).startsWith("stringData.");
    for (const fixture of [
      "deployment-in-sync",
      "deployment-sidecar",
      "configmap-flags-finalizer-added",
      "service-edited",
      "secret-edited",
    ]) {
      const live = load(fixture);
      for (const entry of readManagedFields(live)) {
        for (const path of entry.fields.paths().filter(stored))
          assert.ok(walkPath(live, path), `${fixture}: ${entry.manager} owns ${formatFieldPath(path)}, not found`);
      }
    }
  });

  it("finds list items by their key fields, with the server's defaults", () => {
    const live = load("deployment-sidecar");
    assert.deepEqual(walkPath(live, [...web, { field: "image" }]), { value: "registry.example/shop/web:1.4.2" });
    assert.deepEqual(
      walkPath(live, [
        ...web,
        { field: "ports" },
        { key: { protocol: "TCP", containerPort: 8080 } },
        { field: "name" },
      ]),
      { value: "http" },
    );
    assert.equal(
      walkPath(live, [...web, { field: "ports" }, { key: { containerPort: 8080, protocol: "UDP" } }]),
      undefined,
    );
    assert.equal(walkPath(live, [...web.slice(0, -1), { key: { name: "missing" } }]), undefined);
    assert.deepEqual(walkPath(live, [...web.slice(0, -1), { index: 1 }, { field: "name" }]), { value: "proxy" });
    assert.equal(walkPath(live, [...web.slice(0, -1), { index: 2 }]), undefined);
  });

  it("finds set items by value", () => {
    const live = load("configmap-flags-finalizer-added");
    assert.deepEqual(
      walkPath(live, [{ field: "metadata" }, { field: "finalizers" }, { value: "example.com/backup" }]),
      { value: "example.com/backup" },
    );
    assert.equal(
      walkPath(live, [{ field: "metadata" }, { field: "finalizers" }, { value: "example.com/other" }]),
      undefined,
    );
  });

  it("tells a field holding null from a missing one, and stops at the wrong type", () => {
    const object = { spec: { a: null, list: [{ name: "x" }] } };
    assert.deepEqual(walkPath(object, [{ field: "spec" }, { field: "a" }]), { value: null });
    assert.equal(walkPath(object, [{ field: "spec" }, { field: "b" }]), undefined);
    assert.equal(walkPath(object, [{ field: "spec" }, { field: "a" }, { field: "b" }]), undefined);
    assert.equal(walkPath(object, [{ field: "spec" }, { key: { name: "x" } }]), undefined);
    assert.equal(walkPath(object, [{ field: "spec" }, { field: "list" }, { field: "name" }]), undefined);
    assert.equal(walkPath(object, [{ field: "toString" }]), undefined);
    assert.deepEqual(walkPath(object, []), { value: object });
  });
});
