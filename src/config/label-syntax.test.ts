import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isLabelKey, isLabelValue, labelsSchema } from "./label-syntax.js";

describe("isLabelKey", () => {
  it("accepts names and prefixed names", () => {
    for (const key of [
      "region",
      "tier",
      "a",
      "A_b.c-d",
      "topology.kubernetes.io/region",
      "ferry.dev/wave",
      "x/y",
      "a".repeat(63),
      `${"p".repeat(253)}/n`,
    ]) {
      assert.equal(isLabelKey(key), true, key);
    }
  });

  it("refuses bad names, prefixes and extra slashes", () => {
    for (const key of [
      "",
      "-a",
      "a-",
      "_a",
      "a b",
      "a!",
      "a".repeat(64),
      "/a",
      "a/",
      "Upper.Case/a",
      "a/b/c",
      "-x.io/a",
      `${"p".repeat(254)}/n`,
      "a..b/c",
    ]) {
      assert.equal(isLabelKey(key), false, key);
    }
  });
});

describe("isLabelValue", () => {
  it("accepts empty values and names up to 63 characters", () => {
    for (const value of ["", "eu", "EU-west_1.a", "a".repeat(63)]) assert.equal(isLabelValue(value), true, value);
  });

  it("refuses values with other characters, bad ends or over 63 characters", () => {
    for (const value of ["-eu", "eu-", ".a", "a/b", "a b", "a".repeat(64)])
      assert.equal(isLabelValue(value), false, value);
  });
});

describe("labelsSchema", () => {
  it("reports each bad key or value at its own entry", () => {
    const result = labelsSchema.safeParse({ region: "eu", "Bad Key": "x", tier: "-prod" });
    assert.equal(result.success, false);
    assert.deepEqual(
      result.error?.issues.map((i) => [i.path.join("."), i.message.split(":")[0]]),
      [
        ["Bad Key", '"Bad Key" must be a label key'],
        ["tier", '"-prod" must be a label value'],
      ],
    );
  });
});
