import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { startTestRedis } from "../../test/support/redis.js";
import { FerryError } from "../errors.js";
import { keySlot } from "./key-slot.js";
import { describeRedis, openRedis, queueLayout, redisIsUp, redisTargetFromEnv } from "./redis-connection.js";

describe("redisTargetFromEnv", () => {
  test("nothing set: no target (Ferry embeds its own redis-server)", () => {
    assert.equal(redisTargetFromEnv({}), undefined);
    assert.equal(redisTargetFromEnv({ REDIS_URL: " " }), undefined);
  });

  test("REDIS_URL, with a password from REDIS_PASSWORD", () => {
    assert.deepEqual(redisTargetFromEnv({ REDIS_URL: "redis://redis:6379/2", REDIS_PASSWORD: "pw" }), {
      kind: "url",
      url: "redis://redis:6379/2",
      auth: { password: "pw" },
    });
  });

  test("REDIS_SENTINELS with its primary's name, default ports and IPv6", () => {
    assert.deepEqual(
      redisTargetFromEnv({
        REDIS_SENTINELS: "s-0:26380, s-1,[::1]:26381",
        REDIS_SENTINEL_NAME: "ferry",
        REDIS_SENTINEL_PASSWORD: "sp",
        REDIS_TLS: "true",
      }),
      {
        kind: "sentinel",
        sentinels: [
          { host: "s-0", port: 26380 },
          { host: "s-1", port: 26379 },
          { host: "::1", port: 26381 },
        ],
        name: "ferry",
        auth: { sentinelPassword: "sp", tls: true },
      },
    );
    assert.equal((redisTargetFromEnv({ REDIS_SENTINELS: "s" }) as { name: string }).name, "mymaster");
  });

  test("REDIS_CLUSTER_NODES, whose queues get a hash-tag prefix", () => {
    const target = redisTargetFromEnv({
      REDIS_CLUSTER_NODES: "r-0:7000,r-1",
      REDIS_USERNAME: "ferry",
      REDIS_PASSWORD: "pw",
    });
    assert.deepEqual(target, {
      kind: "cluster",
      nodes: [
        { host: "r-0", port: 7000 },
        { host: "r-1", port: 6379 },
      ],
      auth: { username: "ferry", password: "pw" },
    });
    // Six groups by default, each a hash tag in its sixth of the slots; `{ferry}`, where queues were before, is drained.
    const layout = queueLayout(target);
    assert.equal(layout.groups.length, 6);
    layout.groups.forEach((prefix, g) =>
      assert.equal(Math.floor((keySlot(prefix ?? "") * 6) / 16_384), g, `${prefix} in range ${g}`),
    );
    assert.deepEqual(layout.draining, ["{ferry}"]);
    assert.deepEqual(queueLayout({ kind: "url", url: "redis://x" }).consumed(), [undefined]);
  });

  test("REDIS_QUEUE_GROUPS sets how many groups a Cluster's queues spread over; one keeps the single {ferry} tag", () => {
    const target = redisTargetFromEnv({ REDIS_CLUSTER_NODES: "r-0:7000", REDIS_QUEUE_GROUPS: "3" });
    assert.deepEqual(target, { kind: "cluster", nodes: [{ host: "r-0", port: 7000 }], auth: {}, queueGroups: 3 });
    assert.equal(queueLayout(target).groups.length, 3);
    const one = queueLayout(redisTargetFromEnv({ REDIS_CLUSTER_NODES: "r-0", REDIS_QUEUE_GROUPS: "1" })!);
    assert.deepEqual(one.consumed(), ["{ferry}"]);
  });

  test("refuses two deployments at once, bad addresses, URLs of other schemes and a REDIS_TLS that is not a boolean", () => {
    const refused = (env: NodeJS.ProcessEnv, message: RegExp) =>
      assert.throws(
        () => redisTargetFromEnv(env),
        (error: unknown) => error instanceof FerryError && error.kind === "permanent" && message.test(error.message),
      );
    refused({ REDIS_URL: "redis://a", REDIS_SENTINELS: "b:1" }, /set only one of REDIS_URL, REDIS_SENTINELS/);
    refused({ REDIS_SENTINELS: "a:1,b:x" }, /REDIS_SENTINELS: "b:x" is not host:port/);
    refused({ REDIS_CLUSTER_NODES: "a:70000" }, /"a:70000" is not host:port/);
    refused({ REDIS_URL: "http://redis" }, /must start with redis:\/\//);
    refused({ REDIS_URL: "redis://a", REDIS_QUEUE_GROUPS: "3" }, /REDIS_QUEUE_GROUPS .* needs REDIS_CLUSTER_NODES/);
    refused({ REDIS_CLUSTER_NODES: "a", REDIS_QUEUE_GROUPS: "0" }, /whole number from 1 to 64, not "0"/);
    refused({ REDIS_CLUSTER_NODES: "a", REDIS_QUEUE_GROUPS: "2.5" }, /whole number from 1 to 64, not "2.5"/);
    refused({ REDIS_CLUSTER_NODES: "a", REDIS_QUEUE_GROUPS: "65" }, /whole number from 1 to 64, not "65"/);
    refused({ REDIS_URL: "redis://r", REDIS_TLS: "yes" }, /REDIS_TLS must be true or false/);
  });
});

describe("describeRedis", () => {
  test("names hosts, never credentials", () => {
    assert.equal(describeRedis({ kind: "url", url: "redis://user:hunter2@redis:6379/1" }), "redis://redis:6379/1");
    assert.equal(
      describeRedis({
        kind: "sentinel",
        sentinels: [{ host: "s", port: 26379 }],
        name: "m",
        auth: { password: "hunter2" },
      }),
      "sentinel s:26379 (primary m)",
    );
    assert.equal(
      describeRedis({
        kind: "cluster",
        nodes: [
          { host: "a", port: 1 },
          { host: "b", port: 2 },
        ],
        auth: { password: "hunter2" },
      }),
      "cluster a:1,b:2",
    );
  });
});

describe("openRedis", () => {
  test("a URL without a password uses REDIS_PASSWORD; the URL's own wins", async () => {
    const server = await startTestRedis();
    const admin = openRedis({ kind: "url", url: server.url });
    try {
      await admin.call("CONFIG", "SET", "requirepass", "s3cret");
      const withPassword = openRedis(
        { kind: "url", url: server.url, auth: { password: "s3cret" } },
        { maxRetriesPerRequest: 1 },
      );
      const urlWins = openRedis(
        { kind: "url", url: server.url.replace("redis://", "redis://:s3cret@"), auth: { password: "wrong" } },
        { maxRetriesPerRequest: 1 },
      );
      const without = openRedis(
        { kind: "url", url: server.url },
        { maxRetriesPerRequest: 1, enableOfflineQueue: false },
      );
      try {
        assert.equal(await withPassword.ping(), "PONG");
        assert.equal(await urlWins.ping(), "PONG");
        assert.equal(await redisIsUp(without), false);
      } finally {
        for (const c of [withPassword, urlWins, without]) c.disconnect();
      }
    } finally {
      admin.disconnect();
      await server.stop();
    }
  });
});
