import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import type { Redis } from "ioredis";
import { startTestRedis } from "../../test/support/redis.js";
import { waitUntil } from "../../test/support/wait-until.js";
import { FerryError } from "../errors.js";
import { lockWaiters, withLock } from "./environment-lock.js";
import { connectRedis } from "./redis-connection.js";

/** Records when holders run, to tell serial from parallel. */
class Tracker {
  active = 0;
  maxActive = 0;
  readonly events: string[] = [];

  /** A lock holder that marks its start and end around `ms` of work. */
  holder(name: string, ms: number): () => Promise<string> {
    return async () => {
      this.active++;
      this.maxActive = Math.max(this.maxActive, this.active);
      this.events.push(`${name}:start`);
      await sleep(ms);
      this.events.push(`${name}:end`);
      this.active--;
      return name;
    };
  }
}

describe("withLock", () => {
  let server: Awaited<ReturnType<typeof startTestRedis>>;
  // Two connections, as two worker processes would hold them.
  let a: Redis;
  let b: Redis;
  let n = 0;
  /** A key no other test uses. */
  const key = () => `ferry:lock:test-${++n}`;

  before(async () => {
    server = await startTestRedis();
    a = connectRedis(server.url);
    b = connectRedis(server.url);
  });

  after(async () => {
    a?.disconnect();
    b?.disconnect();
    await server?.stop();
  });

  it("runs two holders of the same key one after the other", async () => {
    const k = key();
    const t = new Tracker();
    const results = await Promise.all([withLock(a, k, t.holder("one", 150)), withLock(b, k, t.holder("two", 150))]);
    assert.deepEqual(results, ["one", "two"]);
    assert.equal(t.maxActive, 1);
    assert.equal(t.events.length, 4);
    // Each start is followed by its own end before anyone else starts.
    for (let i = 0; i < 4; i += 2) {
      assert.equal(t.events[i]?.replace(":start", ""), t.events[i + 1]?.replace(":end", ""), t.events.join(" "));
    }
    assert.equal(await a.exists(k), 0, "the lock is released afterwards");
  });

  it("runs holders of different keys in parallel", async () => {
    const t = new Tracker();
    await Promise.all([withLock(a, key(), t.holder("staging", 300)), withLock(b, key(), t.holder("production", 300))]);
    assert.equal(t.maxActive, 2);
  });

  it("releases the lock when its holder throws", async () => {
    const k = key();
    await assert.rejects(
      withLock(a, k, async () => {
        await sleep(10);
        throw new Error("apply failed");
      }),
      /apply failed/,
    );
    assert.equal(await a.exists(k), 0);
    // With no time to wait, the next holder gets the lock only because it is free at once.
    assert.equal(await withLock(b, k, () => Promise.resolve("next"), { waitMs: 0 }), "next");
  });

  it("takes a lock whose holder died once it expires", async () => {
    const k = key();
    const started = Date.now();
    assert.equal(await b.set(k, "dead-worker-token", "PX", 400), "OK");
    assert.equal(await withLock(a, k, () => Promise.resolve("taken"), { waitMs: 5000 }), "taken");
    const waited = Date.now() - started;
    assert.ok(waited >= 390, `waited only ${waited} ms for a lock that was held`);
    assert.ok(waited < 3000, `waited ${waited} ms`);
  });

  it("does not free a lock another holder took after ours expired", async () => {
    const k = key();
    await withLock(a, k, async () => {
      // Our lock expires (as if renewals failed) and another worker takes the key.
      await a.del(k);
      await b.set(k, "other-worker-token", "PX", 5000);
    });
    assert.equal(await b.get(k), "other-worker-token");
    await b.del(k);
  });

  it("renews the lock while its holder runs past the TTL", async () => {
    const k = key();
    const t = new Tracker();
    await Promise.all([
      withLock(a, k, t.holder("long", 700), { ttlMs: 300 }),
      sleep(50).then(() => withLock(b, k, t.holder("second", 10), { ttlMs: 300 })),
    ]);
    assert.equal(t.maxActive, 1);
    assert.deepEqual(t.events, ["long:start", "long:end", "second:start", "second:end"]);
  });

  it("lists who waits for a lock, and what for, while they wait", async () => {
    const k = key();
    let release!: () => void;
    const holding = new Promise<void>((resolve) => (release = resolve));
    const holder = withLock(a, k, () => holding, { waiter: "sha-1" });
    await waitUntil("the holder did not get the lock", async () => (await a.exists(k)) === 1, 2_000, 10);
    assert.deepEqual(await lockWaiters(a, k), [], "the holder got the lock at once: it never waited");
    const second = withLock(b, k, () => Promise.resolve("second"), { waiter: "sha-2" });
    const third = withLock(b, k, () => Promise.resolve("third"), { waiter: "sha-3" });
    let waiters: string[] = [];
    await waitUntil(
      () => `two waiters were not listed (got ${JSON.stringify(waiters)})`,
      async () => (waiters = await lockWaiters(a, k)).length >= 2,
      2_000,
      10,
    );
    assert.deepEqual(waiters.sort(), ["sha-2", "sha-3"]);
    release();
    await Promise.all([holder, second, third]);
    assert.deepEqual(await lockWaiters(a, k), [], "each waiter leaves the list once it holds the lock");
  });

  it("forgets a waiter that died waiting once it is older than the longest wait", async () => {
    const k = key();
    await a.zadd(`${k}:waiting`, Date.now() - 60_000, "dead-token sha-old");
    await a.zadd(`${k}:waiting`, Date.now(), "live-token sha-new");
    assert.deepEqual(await lockWaiters(a, k, 30_000), ["sha-new"]);
  });

  it("gives up with a transient error after waitMs", async () => {
    const k = key();
    await b.set(k, "busy-worker-token", "PX", 10_000);
    let ran = false;
    const started = Date.now();
    await assert.rejects(
      withLock(
        a,
        k,
        () => {
          ran = true;
          return Promise.resolve();
        },
        { waitMs: 200 },
      ),
      (error: unknown) => {
        assert.ok(error instanceof FerryError);
        assert.equal(error.kind, "transient");
        assert.match(error.message, new RegExp(`still running \\(${k}\\)`));
        return true;
      },
    );
    assert.equal(ran, false);
    assert.ok(Date.now() - started < 3000);
    assert.equal(await b.get(k), "busy-worker-token", "the other holder's lock is untouched");
    await b.del(k);
  });
});
