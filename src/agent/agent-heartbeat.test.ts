import assert from "node:assert/strict";
import { test } from "node:test";
import { AgentSighting } from "./agent-heartbeat.js";

test("an agent is seen when its heartbeat changes, by the watcher's own clock", () => {
  const s = new AgentSighting("100", 1_000);
  s.look("100", 5_000);
  assert.equal(s.unseenFor(5_000), 4_000);
  // The agent's clock may be anywhere: only the change counts.
  s.look("99", 6_000);
  assert.equal(s.unseenFor(7_000), 1_000);
});

test("a vanished heartbeat is no sighting; one that never beat gets a full timeout from the first look", () => {
  const gone = new AgentSighting("100", 0);
  gone.look(null, 1_000);
  assert.equal(gone.unseenFor(2_000), 2_000);
  const never = new AgentSighting(null, 10_000);
  never.look(null, 12_000);
  assert.equal(never.unseenFor(12_000), 2_000);
  never.look("1", 13_000);
  assert.equal(never.unseenFor(13_000), 0);
});
