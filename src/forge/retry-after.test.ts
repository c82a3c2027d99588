import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { honourRetryAfter, retryAfterMs } from "./retry-after.js";

/** A fetch answering from `answers` in order, recording each call. */
function scripted(answers: Array<{ status: number; retryAfter?: string }>) {
  const calls: Array<{ body: unknown }> = [];
  const fetchImpl = (_input: string | URL | Request, init?: RequestInit) => {
    calls.push({ body: init?.body });
    const next = answers.shift() ?? { status: 200 };
    return Promise.resolve(
      new Response(`status ${next.status}`, {
        status: next.status,
        headers: next.retryAfter === undefined ? {} : { "retry-after": next.retryAfter },
      }),
    );
  };
  return { calls, fetchImpl };
}

describe("retryAfterMs", () => {
  it("reads delta-seconds and HTTP dates, and nothing else", () => {
    assert.equal(retryAfterMs("2"), 2000);
    assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 4_000), 6_000);
    assert.equal(retryAfterMs(new Date(1_000).toUTCString(), 4_000), 0);
    assert.equal(retryAfterMs(undefined), undefined);
    assert.equal(retryAfterMs("soon"), undefined);
  });
});

describe("honourRetryAfter", () => {
  it("waits as each 403, 429 and 503 with Retry-After asks and sends the same body again", async () => {
    const { calls, fetchImpl } = scripted([
      { status: 429, retryAfter: "2" },
      { status: 403, retryAfter: "1" },
      { status: 503, retryAfter: "0" },
    ]);
    const waits: number[] = [];
    const wrapped = honourRetryAfter(fetchImpl, { sleep: (ms) => Promise.resolve(void waits.push(ms)) });
    const response = await wrapped("http://forge.test/x", { method: "POST", body: '{"a":1}' });
    assert.equal(response.status, 200);
    assert.deepEqual(waits, [2000, 1000, 0]);
    assert.deepEqual(
      calls.map((c) => c.body),
      ['{"a":1}', '{"a":1}', '{"a":1}', '{"a":1}'],
    );
  });

  it("hands back answers without Retry-After, waits past the limit, and the answer after the last retry", async () => {
    for (const [answers, status, sends] of [
      [[{ status: 502 }], 502, 1],
      [[{ status: 500, retryAfter: "1" }], 500, 1],
      [[{ status: 429, retryAfter: "3600" }], 429, 1],
      [Array.from({ length: 5 }, () => ({ status: 429, retryAfter: "0" })), 429, 4],
    ] as const) {
      const { calls, fetchImpl } = scripted([...answers]);
      const wrapped = honourRetryAfter(fetchImpl, { sleep: () => Promise.resolve() });
      assert.equal((await wrapped("http://forge.test/x")).status, status);
      assert.equal(calls.length, sends);
    }
  });
});
