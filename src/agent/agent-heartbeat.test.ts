import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { startTestRedis } from "../../test/support/redis.js";
import { AgentSighting, lastSighting } from "./agent-heartbeat.js";
import { agentKeys } from "./agent-keys.js";

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

describe("lastSighting (real redis-server)", () => {
  let server: Awaited<ReturnType<typeof startTestRedis>>;
  let redis: Redis;
  const keys = agentKeys("edge-gone");
  before(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
  });
  after(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  test("a follow resumes the last one's sighting while the heartbeat stood still, and starts anew once it moved", async () => {
    await redis.set(keys.heartbeat, "500");
    const first = await lastSighting(redis, keys, 10_000);
    assert.equal(first.sighting.unseenFor(10_000), 0, "the first look is a sighting");
    first.sighting.look("500", 70_000);
    // A later follow, the heartbeat unchanged: the agent has been unseen since the first look.
    const later = await lastSighting(redis, keys, 90_000);
    assert.equal(later.sighting.unseenFor(90_000), 80_000);
    // The agent beats again: seen now, and remembered for the next follow.
    await redis.set(keys.heartbeat, "501");
    assert.equal(later.sighting.look("501", 95_000), true);
    await later.remember();
    const next = await lastSighting(redis, keys, 100_000);
    assert.equal(next.sighting.unseenFor(100_000), 5_000);
    await redis.set(keys.heartbeat, "502");
    assert.equal((await lastSighting(redis, keys, 120_000)).sighting.unseenFor(120_000), 0);
  });

  test("an agent that never beat is counted from the first follow that looked for it", async () => {
    const never = agentKeys("edge-never");
    await lastSighting(redis, never, 1_000);
    assert.equal((await lastSighting(redis, never, 61_000)).sighting.unseenFor(61_000), 60_000);
  });
});
