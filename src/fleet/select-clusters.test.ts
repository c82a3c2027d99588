import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { serverConfigSchema } from "../config/server-config.js";
import { describeSelector, selectClusters } from "./select-clusters.js";

const { clusters } = serverConfigSchema.parse({
  clusters: [
    { name: "us-1", context: "us-1", labels: { region: "us", tier: "prod" } },
    { name: "eu-2", context: "eu-2", labels: { region: "eu", tier: "prod" } },
    { name: "eu-1", context: "eu-1", labels: { region: "eu", tier: "canary" } },
  ],
});

describe("selectClusters", () => {
  it("gives the selected clusters in the server config's order, whatever order names are given in", () => {
    assert.deepEqual(
      selectClusters({ names: ["eu-1", "us-1"] }, clusters).map((c) => c.name),
      ["us-1", "eu-1"],
    );
    assert.deepEqual(
      selectClusters({ matchLabels: { tier: "prod" } }, clusters).map((c) => c.name),
      ["us-1", "eu-2"],
    );
    assert.deepEqual(selectClusters({}, clusters), clusters);
    assert.deepEqual(selectClusters({ matchLabels: { tier: "dev" } }, clusters), []);
  });
});

describe("describeSelector", () => {
  it("says a selector in a few words, requirements sorted by key", () => {
    assert.equal(
      describeSelector({
        matchLabels: { tier: "prod" },
        matchExpressions: [{ key: "region", operator: "In", values: ["eu", "us"] }],
      }),
      "region In (eu, us), tier=prod",
    );
    assert.equal(
      describeSelector({
        matchExpressions: [
          { key: "zone", operator: "NotIn", values: ["a"] },
          { key: "gpu", operator: "Exists" },
          { key: "old", operator: "DoesNotExist" },
        ],
      }),
      "gpu Exists, old DoesNotExist, zone NotIn (a)",
    );
  });

  it("names names, ORed with labels, and says every cluster for {}", () => {
    assert.equal(describeSelector({ names: ["eu-1", "eu-2"] }), "names (eu-1, eu-2)");
    assert.equal(describeSelector({ names: ["lab"], matchLabels: { tier: "canary" } }), "names (lab) or tier=canary");
    assert.equal(describeSelector({}), "every cluster");
    assert.equal(describeSelector({ matchLabels: {} }), "every cluster");
  });

  it("keeps long name lists short", () => {
    const names = Array.from({ length: 25 }, (_, i) => `c${i}`);
    assert.equal(describeSelector({ names }), "names (c0, c1, c2, c3, c4, c5, c6, c7, c8, c9 and 15 more)");
  });
});
