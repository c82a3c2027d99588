import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DecryptionCache, type Decryption } from "./decryption-cache.js";

describe("DecryptionCache", () => {
  const made = (text: string): Decryption => ({ text, values: [text] });

  it("keeps a decryption per ciphertext and identities, sharing one in flight", async () => {
    const cache = new DecryptionCache();
    let runs = 0;
    const decrypt = () => Promise.resolve(made(`plain-${++runs}`));
    const [a, b] = await Promise.all([cache.get("yaml", "c", "k1", decrypt), cache.get("yaml", "c", "k1", decrypt)]);
    assert.equal(runs, 1);
    assert.equal(a, b);
    assert.equal((await cache.get("yaml", "c", "k2", decrypt)).text, "plain-2", "other identities decrypt anew");
    assert.equal((await cache.get("dotenv", "c", "k1", decrypt)).text, "plain-3", "another format too");
  });

  it("forgets failures, and the least recently used past its bound", async () => {
    const cache = new DecryptionCache(2);
    await assert.rejects(cache.get("yaml", "bad", "k", () => Promise.reject(new Error("MAC mismatch"))));
    assert.equal((await cache.get("yaml", "bad", "k", () => Promise.resolve(made("fixed")))).text, "fixed");
    await cache.get("yaml", "two", "k", () => Promise.resolve(made("two")));
    await cache.get("yaml", "bad", "k", () => Promise.resolve(made("not asked")));
    await cache.get("yaml", "three", "k", () => Promise.resolve(made("three")));
    assert.equal(
      (await cache.get("yaml", "bad", "k", () => Promise.resolve(made("again")))).text,
      "fixed",
      "recently used: kept",
    );
    assert.equal(
      (await cache.get("yaml", "two", "k", () => Promise.resolve(made("again")))).text,
      "again",
      "oldest: dropped",
    );
  });
});
