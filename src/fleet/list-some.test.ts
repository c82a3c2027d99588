import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { listSome } from "./list-some.js";

describe("listSome", () => {
  it("lists up to max items, then counts the rest", () => {
    assert.equal(listSome([], 3), "");
    assert.equal(listSome(["a", "b", "c"], 3), "a, b, c");
    assert.equal(listSome(["a", "b", "c", "d", "e"], 3), "a, b, c and 2 more");
  });
});
