import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { deliveryBody } from "./delivery-body.js";

describe("deliveryBody", () => {
  it("keeps the exact text and reads it as JSON once, on first use", () => {
    const body = deliveryBody(' {"a": [1, 2]} ');
    assert.equal(body.text, ' {"a": [1, 2]} ');
    const first = body.json();
    assert.deepEqual(first, { valid: true, value: { a: [1, 2] } });
    assert.equal(body.json(), first);
  });

  it("reads text that is not JSON as invalid, without throwing", () => {
    for (const text of ["{not json", "", "a=b"]) assert.deepEqual(deliveryBody(text).json(), { valid: false }, text);
  });
});
