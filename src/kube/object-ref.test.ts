import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { describeRef, groupOf, refKey, refOf, type ObjectRef } from "./object-ref.js";

describe("groupOf", () => {
  it("takes the group of an apiVersion, empty for the core group", () => {
    assert.equal(groupOf("apps/v1"), "apps");
    assert.equal(groupOf("networking.k8s.io/v1"), "networking.k8s.io");
    assert.equal(groupOf("v1"), "");
  });
});

describe("refKey", () => {
  const hpa = (apiVersion: string): ObjectRef => ({
    apiVersion,
    kind: "HorizontalPodAutoscaler",
    namespace: "shop",
    name: "web",
  });

  it("ignores the version within a group", () => {
    assert.equal(refKey(hpa("autoscaling/v1")), refKey(hpa("autoscaling/v2")));
    assert.equal(refKey(hpa("autoscaling/v2")), "autoscaling/HorizontalPodAutoscaler/shop/web");
  });

  it("tells groups, kinds, namespaces and names apart", () => {
    const base: ObjectRef = { apiVersion: "apps/v1", kind: "Deployment", namespace: "shop", name: "web" };
    const keys = new Set([
      refKey(base),
      refKey({ ...base, apiVersion: "extensions/v1beta1" }),
      refKey({ ...base, kind: "StatefulSet" }),
      refKey({ ...base, namespace: "other" }),
      refKey({ ...base, name: "api" }),
    ]);
    assert.equal(keys.size, 5);
  });

  it("keys cluster-scoped objects with an empty namespace", () => {
    assert.equal(refKey({ apiVersion: "v1", kind: "Namespace", name: "shop" }), "/Namespace//shop");
  });
});

describe("refOf", () => {
  it("takes the reference of an object, without a namespace when it has none", () => {
    assert.deepEqual(
      refOf({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "shop" } }),
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        namespace: "shop",
        name: "web",
      },
    );
    assert.deepEqual(refOf({ apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } }), {
      apiVersion: "v1",
      kind: "Namespace",
      name: "shop",
    });
  });
});

describe("describeRef", () => {
  it("names an object the way people do", () => {
    assert.equal(
      describeRef({ apiVersion: "apps/v1", kind: "Deployment", namespace: "shop", name: "web" }),
      "Deployment shop/web",
    );
    assert.equal(describeRef({ apiVersion: "v1", kind: "Namespace", name: "shop" }), "Namespace shop");
  });
});
