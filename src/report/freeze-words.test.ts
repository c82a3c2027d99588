import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { freezeReplies, freezeTime, frozenStatus } from "./freeze-words.js";

const UNTIL = Date.UTC(2026, 11, 24, 18, 0, 59);

describe("freeze words", () => {
  it("write a freeze's end to the minute, in UTC, the same on the commit and in the reply", () => {
    assert.equal(freezeTime(UNTIL), "2026-12-24 18:00 UTC");
    assert.equal(frozenStatus(UNTIL, "holidays"), "frozen until 2026-12-24 18:00 UTC: holidays");
    assert.match(
      freezeReplies.froze("ana", "production", UNTIL, "holidays"),
      /^@ana froze production until 2026-12-24 18:00 UTC: holidays\. /,
    );
  });

  it("say how to write the command when it was written wrong", () => {
    assert.equal(
      freezeReplies.noEnvironment("ana", "unfreeze"),
      "@ana name the environment: `/ferry unfreeze <environment>`.",
    );
    assert.match(
      freezeReplies.badFreeze("ana", "a freeze lasts at most 30d"),
      /^@ana a freeze lasts at most 30d: `\/ferry freeze <environment> <duration> <reason>`/,
    );
  });

  it("mention held-back releases only when there were some", () => {
    assert.equal(freezeReplies.unfroze("ana", "prod", false), "@ana unfroze prod.");
    assert.match(freezeReplies.unfroze("ana", "prod", true), /^@ana unfroze prod: the releases it held back start now/);
  });
});
