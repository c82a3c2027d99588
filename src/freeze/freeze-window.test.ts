import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { activeWindow, freezeWindowSchema, serverFreezeWindowSchema, type FreezeWindow } from "./freeze-window.js";

const at = (iso: string) => Date.parse(iso);
const weekend: FreezeWindow = {
  cron: "0 18 * * 5",
  duration: "62h",
  environments: ["production"],
  reason: "weekend",
};

describe("activeWindow", () => {
  it("is in force from each opening for its duration, for the environments it names", () => {
    // Friday 2026-12-04 18:00 UTC to Monday 08:00 UTC.
    assert.deepEqual(activeWindow([weekend], "production", at("2026-12-04T18:00:00Z")), {
      until: at("2026-12-07T08:00:00Z"),
      reason: "weekend",
    });
    assert.equal(activeWindow([weekend], "production", at("2026-12-06T12:00:00Z"))?.until, at("2026-12-07T08:00:00Z"));
    assert.equal(activeWindow([weekend], "production", at("2026-12-07T08:00:00Z")), undefined, "ended");
    assert.equal(activeWindow([weekend], "production", at("2026-12-04T17:59:59Z")), undefined, "not yet");
    assert.equal(activeWindow([weekend], "staging", at("2026-12-05T12:00:00Z")), undefined, "another environment");
  });

  it("reads cron in the window's time zone, takes seconds, and of several the one ending last", () => {
    const berlin = { ...weekend, timezone: "Europe/Berlin" };
    // 18:00 in Berlin (winter, UTC+1) is 17:00 UTC.
    assert.equal(activeWindow([berlin], "production", at("2026-12-04T17:30:00Z"))?.until, at("2026-12-07T07:00:00Z"));
    const seconds = { cron: "30 0 12 * * *", duration: "10s", environments: ["production"] };
    assert.deepEqual(activeWindow([seconds], "production", at("2026-12-06T12:00:35Z")), {
      until: at("2026-12-06T12:00:40Z"),
      reason: "freeze window (30 0 12 * * *)",
    });
    const longer = { ...weekend, duration: "3d", reason: "longer" };
    assert.equal(activeWindow([weekend, longer], "production", at("2026-12-05T00:00:00Z"))?.reason, "longer");
  });
});

describe("freeze window schemas", () => {
  it("refuse a bad cron, time zone or duration, and keys a window does not have", () => {
    const bad = freezeWindowSchema.safeParse({
      cron: "0 18 * * fri-",
      duration: "0s",
      environments: [],
      timezone: "Mars/Olympus",
    });
    assert.equal(bad.success, false);
    const paths = bad.error?.issues.map((i) => i.path.join(".")).sort();
    assert.deepEqual(paths, ["cron", "duration", "environments", "timezone"]);
    assert.equal(freezeWindowSchema.safeParse({ ...weekend, repositories: ["acme/*"] }).success, false);
    assert.equal(serverFreezeWindowSchema.safeParse({ ...weekend, repositories: ["acme/*"] }).success, true);
  });
});
