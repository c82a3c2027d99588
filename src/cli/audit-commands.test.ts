import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseTime } from "./audit-commands.js";

describe("parseTime", () => {
  const now = Date.parse("2026-12-06T12:00:00Z");

  it("reads dates, times and times ago", () => {
    assert.equal(parseTime("--since", "2026-01-31", now), Date.parse("2026-01-31T00:00:00Z"));
    assert.equal(parseTime("--since", "2026-01-31T12:30:00Z", now), Date.parse("2026-01-31T12:30:00Z"));
    assert.equal(parseTime("--since", "30d", now), now - 30 * 86_400_000);
    assert.equal(parseTime("--until", "1h30m", now), now - 5_400_000);
  });

  it("refuses anything else, naming the option and what it takes", () => {
    assert.throws(
      () => parseTime("--since", "last week", now),
      /^Error: --since must be a date \(2026-01-31, 2026-01-31T12:00:00Z\) or a time ago \(30d, 12h\), not "last week"$/,
    );
    assert.throws(() => parseTime("--until", "1700000000", now), /--until must be a date/);
  });
});
