import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { formatFieldPath, type FieldPath } from "./field-path.js";
import { parseFieldsV1 } from "./parse-fields-v1.js";

/** A managedFields entry's fieldsV1 from an object captured from a real API server. */
function fieldsOf(fixture: string, manager: string): unknown {
  const object = JSON.parse(readFileSync(join(import.meta.dirname, "testdata", `${fixture}.json`), "utf8")) as {
    metadata: { managedFields: Array<{ manager: string; fieldsV1: unknown }> };
  };
  return object.metadata.managedFields.find((e) => e.manager === manager)?.fieldsV1;
}

const web = (...rest: FieldPath): FieldPath => [
  { field: "spec" },
  { field: "template" },
  { field: "spec" },
  { field: "containers" },
  { key: { name: "web" } },
  ...rest,
];

describe("parseFieldsV1", () => {
  it("lists every path of Ferry's applied set, leaves and list items", () => {
    const paths = parseFieldsV1(fieldsOf("deployment-in-sync", "ferry")).paths().map(formatFieldPath);
    assert.deepEqual(paths, [
      'metadata.annotations["ferry.dev/inventory"]',
      'metadata.labels["app.kubernetes.io/managed-by"]',
      'metadata.labels["app.kubernetes.io/name"]',
      "metadata.labels.team",
      "spec.replicas",
      "spec.selector",
      'spec.template.metadata.labels["app.kubernetes.io/name"]',
      "spec.template.spec.containers[name=web]",
      "spec.template.spec.containers[name=web].args",
      "spec.template.spec.containers[name=web].env[name=LOG_LEVEL]",
      "spec.template.spec.containers[name=web].env[name=LOG_LEVEL].name",
      "spec.template.spec.containers[name=web].env[name=LOG_LEVEL].value",
      "spec.template.spec.containers[name=web].env[name=REGION]",
      "spec.template.spec.containers[name=web].env[name=REGION].name",
      "spec.template.spec.containers[name=web].env[name=REGION].value",
      "spec.template.spec.containers[name=web].image",
      "spec.template.spec.containers[name=web].name",
      "spec.template.spec.containers[name=web].ports[containerPort=8080,protocol=TCP]",
      "spec.template.spec.containers[name=web].ports[containerPort=8080,protocol=TCP].containerPort",
      "spec.template.spec.containers[name=web].ports[containerPort=8080,protocol=TCP].name",
      "spec.template.spec.containers[name=web].resources.limits.memory",
      "spec.template.spec.containers[name=web].resources.requests.cpu",
      "spec.template.spec.containers[name=web].resources.requests.memory",
    ]);
  });

  it("tells owned paths from the prefixes leading to them, and owns what lies under an atomic leaf", () => {
    const set = parseFieldsV1(fieldsOf("deployment-in-sync", "ferry"));
    assert.equal(set.has([{ field: "spec" }, { field: "replicas" }]), true);
    assert.equal(set.has([{ field: "spec" }]), false);
    assert.equal(set.has(web()), true);
    // The selector is atomic: owned whole, so every field in it is Ferry's.
    const matchLabel: FieldPath = [
      { field: "spec" },
      { field: "selector" },
      { field: "matchLabels" },
      { field: "app.kubernetes.io/name" },
    ];
    assert.equal(set.has(matchLabel), false);
    assert.equal(set.owns(matchLabel), true);
    // A list item owned as a node does not make its other fields Ferry's.
    assert.equal(set.owns(web({ field: "imagePullPolicy" })), false);
    assert.equal(set.owns(web({ field: "image" })), true);
    assert.equal(set.owns([{ field: "spec" }, { field: "template" }]), false);
    assert.equal(set.holdsUnder([{ field: "spec" }, { field: "template" }]), true);
    assert.equal(set.holdsUnder([{ field: "status" }]), false);
  });

  it("matches a key whatever order its fields come in", () => {
    const set = parseFieldsV1(fieldsOf("deployment-in-sync", "ferry"));
    assert.equal(set.has(web({ field: "ports" }, { key: { protocol: "TCP", containerPort: 8080 } })), true);
    assert.equal(set.has(web({ field: "ports" }, { key: { containerPort: 8080 } })), false);
  });

  it("says how a list's items are named below a path", () => {
    const set = parseFieldsV1(fieldsOf("deployment-in-sync", "ferry"));
    assert.deepEqual(set.childrenAt(web({ field: "env" })), [
      { key: { name: "LOG_LEVEL" } },
      { key: { name: "REGION" } },
    ]);
    assert.deepEqual(set.childrenAt(web({ field: "args" })), []);
    assert.deepEqual(set.childrenAt([{ field: "spec" }, { field: "selector" }, { field: "matchLabels" }]), []);
    assert.equal(set.childrenAt([{ field: "status" }]), undefined);
  });

  it("reads set items and the node markers of another manager's entry", () => {
    const finalizers = parseFieldsV1(fieldsOf("configmap-flags-finalizer-added", "kubectl-edit"));
    assert.deepEqual(finalizers.paths().map(formatFieldPath), ['metadata.finalizers[="example.com/backup"]']);
    const sidecar = parseFieldsV1(fieldsOf("deployment-sidecar", "sidecar-injector"));
    assert.equal(
      sidecar.has([{ field: "spec" }, { field: "template" }, { field: "metadata" }, { field: "annotations" }]),
      true,
    );
    assert.equal(sidecar.has(web()), false);
    assert.equal(sidecar.has(web({ field: "env" }, { key: { name: "PROXY_PORT" } }, { field: "value" })), true);
  });

  it("reads indexed items and skips what it cannot read", () => {
    const set = parseFieldsV1({ "f:spec": { "f:list": { "i:0": { "f:a": {} }, "x:junk": {}, "f:bad": 3 } } });
    assert.deepEqual(set.paths().map(formatFieldPath), ["spec.list[0].a"]);
  });

  it("is empty for anything but a trie", () => {
    for (const raw of [undefined, null, "f:spec", [], {}]) {
      const set = parseFieldsV1(raw);
      assert.deepEqual(set.paths(), []);
      assert.equal(set.owns([{ field: "spec" }]), false);
      assert.equal(set.holdsUnder([]), false);
    }
  });
});
