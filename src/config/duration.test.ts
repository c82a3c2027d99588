import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { durationMs, durationSchema } from "./duration.js";

describe("durationMs", () => {
  it("reads durations as people write them", () => {
    assert.equal(durationMs("30s"), 30_000);
    assert.equal(durationMs("1h30m"), 5_400_000);
    assert.equal(durationMs("24h"), 86_400_000);
    assert.equal(durationMs("400d"), 400 * 86_400_000);
    assert.equal(durationMs("1d12h"), 36 * 3_600_000);
  });
});

describe("durationSchema", () => {
  const messages = (max: string, text: string) =>
    durationSchema(max)
      .safeParse(text)
      .error?.issues.map((i) => i.message) ?? [];

  it("accepts durations up to its maximum", () => {
    assert.deepEqual(messages("1h", "1h"), []);
    assert.deepEqual(messages("24h", "23h59m59s"), []);
    assert.deepEqual(messages("24h", "24h"), []);
  });

  it("refuses text that is not a duration, zero, and more than the maximum, naming the maximum", () => {
    assert.deepEqual(messages("1h", "5 minutes"), ["must be a duration such as 30s, 5m or 1h30m"]);
    assert.deepEqual(messages("1h", "0s"), ["must be more than 0s and at most 1h"]);
    assert.deepEqual(messages("1h", "61m"), ["must be more than 0s and at most 1h"]);
    assert.deepEqual(messages("24h", "25h"), ["must be more than 0s and at most 24h"]);
  });
});
