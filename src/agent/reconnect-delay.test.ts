import assert from "node:assert/strict";
import { test } from "node:test";
import { reconnectDelay } from "./reconnect-delay.js";

test("the ceiling doubles from the base up to the cap", () => {
  const top = (attempt: number) => reconnectDelay(attempt, { baseMs: 500, capMs: 30_000 }, () => 0.999_999);
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7, 8, 100].map(top),
    [499, 999, 1999, 3999, 7999, 15_999, 29_999, 29_999, 29_999],
  );
});

test("the delay is spread uniformly below the ceiling (full jitter)", () => {
  const delays = Array.from({ length: 10_000 }, () => reconnectDelay(7));
  assert.ok(Math.min(...delays) >= 0 && Math.max(...delays) < 30_000);
  // Ten buckets of 3 s each hold about a tenth of the agents: none stampedes in one moment.
  const buckets = new Array<number>(10).fill(0);
  for (const d of delays) buckets[Math.floor(d / 3000)] = (buckets[Math.floor(d / 3000)] ?? 0) + 1;
  for (const count of buckets) assert.ok(count > 800 && count < 1200, JSON.stringify(buckets));
});
