import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { applyWaves, FOUNDATION_KINDS } from "./apply-order.js";

interface Item {
  kind: string;
  name: string;
}

const item = (kind: string, name = kind.toLowerCase()): Item => ({ kind, name });
const waves = (items: Item[]) => applyWaves(items, (i) => i.kind).map((wave) => wave.map((i) => `${i.kind}/${i.name}`));

describe("applyWaves", () => {
  it("puts Namespaces and CRDs in waves before Deployments", () => {
    assert.deepEqual(waves([item("Deployment"), item("CustomResourceDefinition"), item("Namespace")]), [
      ["Namespace/namespace"],
      ["CustomResourceDefinition/customresourcedefinition"],
      ["Deployment/deployment"],
    ]);
  });

  it("orders known kinds the way Helm installs them", () => {
    const order = waves([
      item("Ingress"),
      item("Service"),
      item("ConfigMap"),
      item("Secret"),
      item("ServiceAccount"),
      item("Deployment"),
    ]).map((w) => w[0]);
    assert.deepEqual(order, [
      "ServiceAccount/serviceaccount",
      "Secret/secret",
      "ConfigMap/configmap",
      "Service/service",
      "Deployment/deployment",
      "Ingress/ingress",
    ]);
  });

  it("puts unknown kinds last, together in one wave", () => {
    assert.deepEqual(
      waves([
        item("Widget", "a"),
        item("Deployment"),
        item("Gadget", "b"),
        item("ValidatingWebhookConfiguration", "v"),
      ]),
      [["Deployment/deployment"], ["ValidatingWebhookConfiguration/v"], ["Widget/a", "Gadget/b"]],
    );
  });

  it("keeps the input order inside a wave", () => {
    assert.deepEqual(
      waves([
        item("Deployment", "c"),
        item("Namespace", "z"),
        item("Deployment", "a"),
        item("Namespace", "b"),
        item("Deployment", "b"),
      ]),
      [
        ["Namespace/z", "Namespace/b"],
        ["Deployment/c", "Deployment/a", "Deployment/b"],
      ],
    );
  });

  it("gives no waves for no items", () => {
    assert.deepEqual(
      applyWaves([], () => "Deployment"),
      [],
    );
  });

  it("names Namespaces and CRDs as foundation kinds", () => {
    assert.deepEqual([...FOUNDATION_KINDS].sort(), ["CustomResourceDefinition", "Namespace"]);
  });
});
