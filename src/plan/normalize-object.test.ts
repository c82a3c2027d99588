import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { normalizeObject } from "./normalize-object.js";

const live = {
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: {
    name: "web",
    namespace: "shop",
    uid: "0d6f4a1e",
    resourceVersion: "4711",
    generation: 3,
    creationTimestamp: "2025-01-01T00:00:00Z",
    selfLink: "/api/v1/namespaces/shop/configmaps/web",
    deletionTimestamp: "2025-01-02T00:00:00Z",
    managedFields: [{ manager: "ferry", operation: "Apply" }],
    annotations: { "kubectl.kubernetes.io/last-applied-configuration": '{"data":{"a":"1"}}' },
    labels: {},
  },
  data: { b: "2", a: "1" },
  status: { phase: "whatever" },
};

describe("normalizeObject", () => {
  it("drops status, server metadata, kubectl's last-applied copy and the empty maps left behind", () => {
    assert.deepEqual(normalizeObject(live), {
      apiVersion: "v1",
      data: { a: "1", b: "2" },
      kind: "ConfigMap",
      metadata: { name: "web", namespace: "shop" },
    });
  });

  it("keeps other labels and annotations", () => {
    const object = {
      ...live,
      metadata: {
        name: "web",
        labels: { app: "web" },
        annotations: { team: "shop", "kubectl.kubernetes.io/last-applied-configuration": "{}" },
      },
    };
    assert.deepEqual(normalizeObject(object).metadata, {
      annotations: { team: "shop" },
      labels: { app: "web" },
      name: "web",
    });
  });

  it("sorts keys at every depth so equal objects serialise identically, and keeps array order", () => {
    const a = { kind: "X", spec: { z: 1, a: { y: [{ b: 1, a: 2 }, "s"], x: null } }, metadata: { name: "n" } };
    const b = { metadata: { name: "n" }, spec: { a: { x: null, y: [{ a: 2, b: 1 }, "s"] }, z: 1 }, kind: "X" };
    assert.equal(JSON.stringify(normalizeObject(a)), JSON.stringify(normalizeObject(b)));
    assert.deepEqual(Object.keys(normalizeObject(a)), ["kind", "metadata", "spec"]);
    assert.deepEqual(Object.keys((normalizeObject(a).spec as { a: object }).a), ["x", "y"]);
  });

  it("drops only the top-level status", () => {
    const object = { kind: "X", metadata: { name: "n" }, spec: { status: "kept" } };
    assert.deepEqual(normalizeObject(object).spec, { status: "kept" });
  });

  it("returns a deep copy and leaves its input alone", () => {
    const input = structuredClone(live);
    const out = normalizeObject(input);
    assert.deepEqual(input, live);
    (out.data as Record<string, string>).a = "changed";
    assert.equal(input.data.a, "1");
  });
});
