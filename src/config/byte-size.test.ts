import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { byteSize, byteSizeSchema } from "./byte-size.js";

describe("byteSize", () => {
  test("reads bytes and binary suffixes", () => {
    assert.equal(byteSize("0"), 0);
    assert.equal(byteSize("1024"), 1024);
    assert.equal(byteSize("64Ki"), 65_536);
    assert.equal(byteSize("512Mi"), 512 * 2 ** 20);
    assert.equal(byteSize("2Gi"), 2 * 2 ** 30);
  });

  test("is NaN for what is not a size", () => {
    for (const text of ["", "512MB", "1.5Gi", "-1", "Mi", "512 Mi"]) assert.ok(Number.isNaN(byteSize(text)), text);
  });
});

describe("byteSizeSchema", () => {
  test("accepts sizes up to the maximum and says what is wrong with others", () => {
    const schema = byteSizeSchema("8Gi");
    assert.equal(schema.parse("256Mi"), "256Mi");
    assert.match(schema.safeParse("512MB").error?.issues[0]?.message ?? "", /a size such as 512Mi/);
    assert.match(schema.safeParse("9Gi").error?.issues[0]?.message ?? "", /at most 8Gi/);
  });
});
