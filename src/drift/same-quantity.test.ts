import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sameQuantity } from "./same-quantity.js";

describe("sameQuantity", () => {
  it("equals a quantity however it is written, as the API server stores it", () => {
    const same: Array<[string | number, string]> = [
      [0.5, "500m"],
      ["0.5", "500m"],
      [1, "1"],
      ["1000m", "1"],
      ["0.5Gi", "512Mi"],
      ["1024Mi", "1Gi"],
      ["1e3", "1k"],
      ["1E3", "1k"],
      ["100000", "100k"],
      [".1", "100m"],
      ["2E", "2000P"],
      ["1.5Gi", "1536Mi"],
      ["-1", "-1000m"],
      ["+2", "2"],
      [1e21, "1000E"],
    ];
    for (const [a, b] of same) assert.equal(sameQuantity(a, b), true, `${a} = ${b}`);
  });

  it("tells different amounts and non-quantities apart", () => {
    const different: Array<[string | number, string]> = [
      ["1", "1Ki"],
      ["1k", "1Ki"],
      ["500m", "0.6"],
      ["1Gi", "1G"],
      ["web", "web"],
      ["1x", "1x"],
      ["", "0"],
      ["1e1000", "1e1000"],
      ["1Mi ", "1Mi"],
    ];
    for (const [a, b] of different) assert.equal(sameQuantity(a, b), false, `${a} ≠ ${b}`);
  });
});
