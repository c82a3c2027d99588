import assert from "node:assert/strict";
import { test } from "node:test";
import { FerryError } from "../errors.js";
import { agentRedisTarget } from "./agent-commands.js";

test("an agent logs in as ferry-agent-<cluster> unless its URL or REDIS_USERNAME names a user", () => {
  assert.deepEqual(agentRedisTarget("edge-1", { REDIS_URL: "redis://r:6379", REDIS_PASSWORD: "s" }), {
    kind: "url",
    url: "redis://r:6379",
    auth: { username: "ferry-agent-edge-1", password: "s" },
  });
  assert.equal(
    agentRedisTarget("edge-1", { REDIS_URL: "redis://r:6379", REDIS_USERNAME: "own" }).auth?.username,
    "own",
  );
  const fromUrl = agentRedisTarget("edge-1", { REDIS_URL: "redis://u:p@r:6379" });
  assert.equal(fromUrl.auth?.username, undefined, "the URL's own user wins, as ioredis reads it");
});

test("an agent without a Redis is refused, saying what to set", () => {
  assert.throws(
    () => agentRedisTarget("edge-1", {}),
    (error: unknown) => error instanceof FerryError && /an agent needs REDIS_URL/.test(error.message),
  );
});
