import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { canonicalJson, fieldPathId, formatFieldPath, parsePathElement, pathElementId } from "./field-path.js";

describe("parsePathElement", () => {
  it("reads each kind of step of a fieldsV1 trie", () => {
    assert.deepEqual(parsePathElement("f:replicas"), { field: "replicas" });
    assert.deepEqual(parsePathElement("f:app.kubernetes.io/name"), { field: "app.kubernetes.io/name" });
    assert.deepEqual(parsePathElement('k:{"containerPort":8080,"protocol":"TCP"}'), {
      key: { containerPort: 8080, protocol: "TCP" },
    });
    assert.deepEqual(parsePathElement('v:"example.com/audit"'), { value: "example.com/audit" });
    assert.deepEqual(parsePathElement("v:3"), { value: 3 });
    assert.deepEqual(parsePathElement("i:2"), { index: 2 });
  });

  it("is undefined for the node itself and for anything malformed", () => {
    for (const text of [".", "", "x:y", "k:{broken", "k:[1]", "i:-1", "i:1.5", "v:"])
      assert.equal(parsePathElement(text), undefined, text);
  });
});

describe("pathElementId", () => {
  it("is the same for keys given in any order", () => {
    assert.equal(
      pathElementId({ key: { protocol: "TCP", containerPort: 80 } }),
      pathElementId({ key: { containerPort: 80, protocol: "TCP" } }),
    );
    assert.notEqual(pathElementId({ field: "a" }), pathElementId({ value: "a" }));
    assert.equal(fieldPathId([{ field: "spec" }, { index: 0 }]), "f:spec\ni:0");
  });
});

describe("canonicalJson", () => {
  it("sorts keys at every depth and drops undefined ones", () => {
    assert.equal(canonicalJson({ b: [{ d: 1, c: 2 }], a: undefined, e: null }), '{"b":[{"c":2,"d":1}],"e":null}');
  });
});

describe("formatFieldPath", () => {
  it("reads as people write paths", () => {
    assert.equal(formatFieldPath([{ field: "spec" }, { field: "replicas" }]), "spec.replicas");
    assert.equal(
      formatFieldPath([{ field: "metadata" }, { field: "labels" }, { field: "app.kubernetes.io/name" }]),
      'metadata.labels["app.kubernetes.io/name"]',
    );
    assert.equal(
      formatFieldPath([
        { field: "spec" },
        { field: "containers" },
        { key: { name: "web" } },
        { field: "env" },
        { key: { name: "LOG_LEVEL" } },
        { field: "value" },
      ]),
      "spec.containers[name=web].env[name=LOG_LEVEL].value",
    );
    assert.equal(
      formatFieldPath([{ field: "ports" }, { key: { containerPort: 8080, protocol: "TCP" } }]),
      "ports[containerPort=8080,protocol=TCP]",
    );
    assert.equal(formatFieldPath([{ field: "env" }, { key: { name: "a b" } }]), 'env[name="a b"]');
    assert.equal(
      formatFieldPath([{ field: "metadata" }, { field: "finalizers" }, { value: "example.com/audit" }]),
      'metadata.finalizers[="example.com/audit"]',
    );
    assert.equal(formatFieldPath([{ field: "args" }, { index: 0 }]), "args[0]");
    assert.equal(formatFieldPath([]), "");
  });
});
