import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ClusterSelector } from "../config/cluster-selector.js";
import { clusterMatcher, labelOf, type SelectableCluster } from "./cluster-matcher.js";

const clusters: SelectableCluster[] = [
  { name: "eu-1", labels: { region: "eu", tier: "prod" } },
  { name: "eu-2", labels: { region: "eu", tier: "canary", gpu: "" } },
  { name: "us-1", labels: { region: "us", tier: "prod" } },
  { name: "lab", labels: {} },
];

/** Names of the clusters `selector` matches. */
const matched = (selector: ClusterSelector) => clusters.filter(clusterMatcher(selector)).map((c) => c.name);

describe("clusterMatcher", () => {
  it("matches every cluster with an empty selector, and with empty label parts", () => {
    assert.deepEqual(matched({}), ["eu-1", "eu-2", "us-1", "lab"]);
    assert.deepEqual(matched({ matchLabels: {}, matchExpressions: [] }), ["eu-1", "eu-2", "us-1", "lab"]);
  });

  it("matches names only when names are all it has, empty label parts adding nothing", () => {
    assert.deepEqual(matched({ names: ["us-1", "lab", "mars"] }), ["us-1", "lab"]);
    assert.deepEqual(matched({ names: ["lab"], matchLabels: {} }), ["lab"]);
  });

  it("matchLabels: every entry must hold", () => {
    assert.deepEqual(matched({ matchLabels: { region: "eu" } }), ["eu-1", "eu-2"]);
    assert.deepEqual(matched({ matchLabels: { region: "eu", tier: "prod" } }), ["eu-1"]);
    assert.deepEqual(
      matched({ matchLabels: { gpu: "" } }),
      ["eu-2"],
      "an empty value matches only a label that is there and empty",
    );
  });

  it("In: the label is there with one of the values", () => {
    assert.deepEqual(matched({ matchExpressions: [{ key: "region", operator: "In", values: ["us", "ap"] }] }), [
      "us-1",
    ]);
    assert.deepEqual(matched({ matchExpressions: [{ key: "gpu", operator: "In", values: [""] }] }), ["eu-2"]);
  });

  it("NotIn: the label is missing or has another value", () => {
    assert.deepEqual(matched({ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["prod"] }] }), [
      "eu-2",
      "lab",
    ]);
  });

  it("Exists and DoesNotExist look at the key only, an empty value included", () => {
    assert.deepEqual(matched({ matchExpressions: [{ key: "gpu", operator: "Exists" }] }), ["eu-2"]);
    assert.deepEqual(matched({ matchExpressions: [{ key: "gpu", operator: "DoesNotExist" }] }), [
      "eu-1",
      "us-1",
      "lab",
    ]);
  });

  it("needs matchLabels and every expression to hold together", () => {
    const selector: ClusterSelector = {
      matchLabels: { tier: "prod" },
      matchExpressions: [
        { key: "region", operator: "In", values: ["eu", "us"] },
        { key: "region", operator: "NotIn", values: ["us"] },
      ],
    };
    assert.deepEqual(matched(selector), ["eu-1"]);
  });

  it("ORs names with the label part", () => {
    assert.deepEqual(matched({ names: ["lab"], matchLabels: { tier: "canary" } }), ["eu-2", "lab"]);
  });

  it("does not take inherited properties for labels", () => {
    assert.deepEqual(matched({ matchExpressions: [{ key: "constructor", operator: "Exists" }] }), []);
    assert.deepEqual(matched({ matchExpressions: [{ key: "toString", operator: "DoesNotExist" }] }), [
      "eu-1",
      "eu-2",
      "us-1",
      "lab",
    ]);
    assert.equal(labelOf({}, "hasOwnProperty"), undefined);
    assert.equal(labelOf({ region: "eu" }, "region"), "eu");
  });
});
