import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { showValue, VALUE_LENGTH } from "./show-value.js";

describe("showValue", () => {
  it("shows values as one-line JSON", () => {
    assert.equal(showValue(3), "3");
    assert.equal(showValue("web:1.4.2"), '"web:1.4.2"');
    assert.equal(showValue({ cpu: "1" }), '{"cpu":"1"}');
    assert.equal(showValue(null), "null");
    assert.equal(showValue(undefined), "null");
  });

  it("clips long values with an ellipsis", () => {
    const shown = showValue("x".repeat(200));
    assert.equal(shown.length, VALUE_LENGTH);
    assert.ok(shown.endsWith("…"));
    assert.equal(showValue([1, 2, 3], 5), "[1,2…");
  });
});
