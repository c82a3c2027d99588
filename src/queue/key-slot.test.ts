import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { keySlot } from "./key-slot.js";

describe("keySlot", () => {
  test("the slots Redis's cluster spec and CLUSTER KEYSLOT give", () => {
    // The spec's check value: CRC16 of "123456789" is 0x31C3.
    assert.equal(keySlot("123456789"), 0x31c3);
    // Answers of CLUSTER KEYSLOT on redis-server 7.
    assert.equal(keySlot("foo"), 12182);
    assert.equal(keySlot("bar"), 5061);
    assert.equal(keySlot("{ferry}"), keySlot("ferry"));
  });

  test("a hash tag decides the slot; an empty tag or an unclosed brace does not count as one", () => {
    assert.equal(keySlot("{user1000}.following"), keySlot("{user1000}.followers"));
    // The spec's examples, with CLUSTER KEYSLOT's answers.
    assert.equal(keySlot("foo{}{bar}"), 8363);
    assert.equal(keySlot("foo{{bar}}zap"), 4015);
    assert.equal(keySlot("{bar"), 4015);
    assert.equal(keySlot("foo{bar}{zap}"), 5061);
  });
});
