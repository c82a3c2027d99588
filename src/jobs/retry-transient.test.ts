import assert from "node:assert/strict";
import { test } from "node:test";
import { permanent, transient } from "../errors.js";
import { retryTransient } from "./retry-transient.js";

test("retryTransient tries again after transient failures, waiting longer each time", async () => {
  const at: number[] = [];
  const result = await retryTransient(
    () => {
      at.push(Date.now());
      return at.length < 3 ? Promise.reject(transient("forge answered 502")) : Promise.resolve("done");
    },
    { delayMs: 20 },
  );
  assert.equal(result, "done");
  assert.equal(at.length, 3);
  // Timers may fire a millisecond or two early against the wall clock.
  const waits = [(at[1] ?? 0) - (at[0] ?? 0), (at[2] ?? 0) - (at[1] ?? 0)];
  assert.ok((waits[0] ?? 0) >= 18 && (waits[1] ?? 0) >= 38, `waits ${waits.join(", ")} ms`);
});

test("retryTransient throws a permanent failure at once", async () => {
  let calls = 0;
  await assert.rejects(
    retryTransient(() => {
      calls++;
      return Promise.reject(permanent("comment too long"));
    }),
    /comment too long/,
  );
  assert.equal(calls, 1);
});

test("retryTransient throws the last transient failure once its tries are spent", async () => {
  let calls = 0;
  await assert.rejects(
    retryTransient(
      () => {
        calls++;
        return Promise.reject(transient(`down ${calls}`));
      },
      { attempts: 3, delayMs: 1 },
    ),
    /down 3/,
  );
  assert.equal(calls, 3);
});
