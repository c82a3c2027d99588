import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { WatchEvent } from "../kube/kube-client.js";
import { changedOnlyByFerry } from "./changed-only-by-ferry.js";

/** An event of `type` on an object whose managedFields are `entries` ([manager, time, subresource?]). */
const event = (type: WatchEvent["type"], entries: Array<[string, string, string?]>): WatchEvent => ({
  type,
  object: {
    metadata: {
      name: "web",
      managedFields: entries.map(([manager, time, subresource]) => ({
        manager,
        time,
        operation: manager === "ferry" ? "Apply" : "Update",
        ...(subresource === undefined ? {} : { subresource }),
      })),
    } as WatchEvent["object"]["metadata"],
  },
});

describe("changedOnlyByFerry", () => {
  it("is true when Ferry's apply, or a status write, is the newest change", () => {
    assert.equal(
      changedOnlyByFerry(
        event("MODIFIED", [
          ["kubectl-edit", "2026-12-06T10:00:00Z"],
          ["ferry", "2026-12-06T10:00:05Z"],
        ]),
      ),
      true,
    );
    assert.equal(
      changedOnlyByFerry(
        event("MODIFIED", [
          ["ferry", "2026-12-06T10:00:00Z"],
          ["kube-controller-manager", "2026-12-06T10:00:01Z", "status"],
        ]),
      ),
      true,
    );
    assert.equal(changedOnlyByFerry(event("ADDED", [["ferry", "2026-12-06T10:00:00Z"]])), true);
  });

  it("is false when another manager wrote last, or ties with Ferry in the same second", () => {
    assert.equal(
      changedOnlyByFerry(
        event("MODIFIED", [
          ["ferry", "2026-12-06T10:00:00Z"],
          ["kubectl-edit", "2026-12-06T10:00:09Z"],
        ]),
      ),
      false,
    );
    assert.equal(
      changedOnlyByFerry(
        event("MODIFIED", [
          ["ferry", "2026-12-06T10:00:09Z"],
          ["kubectl-edit", "2026-12-06T10:00:09Z"],
        ]),
      ),
      false,
    );
  });

  it("is false for a deletion, and for an object without managedFields", () => {
    assert.equal(changedOnlyByFerry(event("DELETED", [["ferry", "2026-12-06T10:00:00Z"]])), false);
    assert.equal(changedOnlyByFerry(event("MODIFIED", [])), false);
  });
});
