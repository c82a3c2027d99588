import assert from "node:assert/strict";
import { FerryError } from "../../src/errors.js";

/** The FerryError a promise rejects with; fails the test when it resolves or rejects with anything else. */
export async function ferryError(promise: Promise<unknown>): Promise<FerryError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof FerryError) return error;
    throw error;
  }
  assert.fail("expected a FerryError");
}
