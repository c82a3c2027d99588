import assert from "node:assert/strict";
import { test } from "node:test";
import { withMarker } from "./with-marker.js";

test("withMarker keeps a body holding the marker and prepends it to one that does not", () => {
  const marker = "<!-- ferry:drift:staging -->";
  assert.equal(withMarker(`${marker}\nDrift`, marker), `${marker}\nDrift`);
  assert.equal(withMarker(`Drift\n${marker}`, marker), `Drift\n${marker}`);
  assert.equal(withMarker("Drift", marker), `${marker}\nDrift`);
  assert.throws(() => withMarker("Drift", ""), /must not be empty/);
});
