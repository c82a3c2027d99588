import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { clusterSelectorObjectSchema, clusterSelectorSchema } from "./cluster-selector.js";

/** Each issue of parsing `value` with `schema`, as `path: message`. */
function issues(
  schema: { safeParse(value: unknown): { error?: { issues: { path: PropertyKey[]; message: string }[] } } },
  value: unknown,
): string[] {
  return schema.safeParse(value).error?.issues.map((i) => `${i.path.map(String).join(".")}: ${i.message}`) ?? [];
}

describe("clusterSelectorSchema", () => {
  it("reads a list of names as { names }", () => {
    assert.deepEqual(clusterSelectorSchema.parse(["eu-1", "eu-2"]), { names: ["eu-1", "eu-2"] });
  });

  it("accepts the object form, and {} for every cluster", () => {
    const selector = {
      names: ["canary"],
      matchLabels: { tier: "prod" },
      matchExpressions: [
        { key: "region", operator: "In", values: ["eu", "us"] },
        { key: "topology.kubernetes.io/zone", operator: "NotIn", values: ["eu-1c"] },
        { key: "gpu", operator: "Exists" },
        { key: "deprecated", operator: "DoesNotExist", values: [] },
      ],
    };
    assert.deepEqual(clusterSelectorSchema.parse(selector), selector);
    assert.deepEqual(clusterSelectorSchema.parse({}), {});
  });

  it("points errors into the list form", () => {
    assert.deepEqual(issues(clusterSelectorSchema, []), [": Too small: expected array to have >=1 items"]);
    assert.deepEqual(issues(clusterSelectorSchema, ["eu-1", 3, ""]), [
      "1: Invalid input: expected string, received number",
      "2: Too small: expected string to have >=1 characters",
    ]);
  });

  it("refuses what is neither a list nor an object", () => {
    for (const value of ["eu-1", 3, null, true]) {
      assert.deepEqual(issues(clusterSelectorSchema, value), [
        ": must be a list of cluster names or a selector { names, matchLabels, matchExpressions }",
      ]);
    }
  });

  it("points errors into the object form: unknown keys, labels, operators and values", () => {
    assert.deepEqual(
      issues(clusterSelectorSchema, {
        nams: ["a"],
        names: [],
        matchLabels: { "Bad Key": "x", tier: "-" },
        matchExpressions: [
          { key: "region", operator: "In" },
          { key: "region", operator: "NotIn", values: [] },
          { key: "gpu", operator: "Exists", values: ["yes"] },
          { key: "gpu", operator: "DoesNotExist", values: ["no"] },
          { key: "gpu", operator: "Gt", values: ["1"] },
          { key: "a/b/c", operator: "Exists" },
          { key: "tier", operator: "In", values: ["prod", "not ok"] },
        ],
      }),
      [
        "names: Too small: expected array to have >=1 items",
        'matchLabels.Bad Key: "Bad Key" must be a label key: an optional DNS subdomain prefix and /, then a name of at most 63 letters, digits, -, _ or . that starts and ends with a letter or digit',
        'matchLabels.tier: "-" must be a label value: empty, or at most 63 letters, digits, -, _ or . that start and end with a letter or digit',
        "matchExpressions.0.values: In needs at least one value",
        "matchExpressions.1.values: NotIn needs at least one value",
        "matchExpressions.2.values: Exists takes no values",
        "matchExpressions.3.values: DoesNotExist takes no values",
        'matchExpressions.4.operator: Invalid option: expected one of "In"|"NotIn"|"Exists"|"DoesNotExist"',
        "matchExpressions.5.key: must be a label key: an optional DNS subdomain prefix and /, then a name of at most 63 letters, digits, -, _ or . that starts and ends with a letter or digit",
        "matchExpressions.6.values.1: must be a label value: empty, or at most 63 letters, digits, -, _ or . that start and end with a letter or digit",
        ': Unrecognized key: "nams"',
      ],
    );
  });
});

describe("clusterSelectorObjectSchema", () => {
  it("takes only the object form", () => {
    assert.deepEqual(clusterSelectorObjectSchema.parse({ matchLabels: { tier: "prod" } }), {
      matchLabels: { tier: "prod" },
    });
    assert.equal(clusterSelectorObjectSchema.safeParse(["eu-1"]).success, false);
  });
});
