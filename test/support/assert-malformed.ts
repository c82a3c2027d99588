import assert from "node:assert/strict";
import { MalformedPayloadError } from "../../src/forge/malformed-payload-error.js";

/** Asserts `fn` throws a MalformedPayloadError whose message matches `field`. */
export function assertMalformed(fn: () => unknown, field: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof MalformedPayloadError, `expected MalformedPayloadError, got ${String(error)}`);
    assert.match(error.message, field);
    return true;
  });
}
