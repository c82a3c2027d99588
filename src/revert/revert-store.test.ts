import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { startTestRedis } from "../../test/support/redis.js";
import type { RepoRef } from "../domain/repo.js";
import { RevertStore } from "./revert-store.js";

const repo: RepoRef = { forge: "gitlab", fullName: "acme/shop", projectId: 7 };

describe("RevertStore against a real redis-server", () => {
  let redis: Redis;
  let stop: () => Promise<void>;
  let store: RevertStore;
  before(async () => {
    const server = await startTestRedis();
    stop = () => server.stop();
    redis = new Redis(server.url);
    store = new RevertStore(redis);
  });
  after(async () => {
    redis?.disconnect();
    await stop?.();
  });

  it("remembers the revert of a change, per forge and repository, for 400 days", async () => {
    assert.equal(await store.get(repo, 3), undefined);
    const revert = { number: 9, url: "https://gitlab.example.com/acme/shop/-/merge_requests/9", by: "lead", at: 1 };
    await store.remember(repo, 3, revert);
    assert.deepEqual(await store.get(repo, 3), revert);
    assert.equal(await store.get({ ...repo, forge: "github" }, 3), undefined);
    assert.equal(await store.get(repo, 4), undefined);
    const ttl = await redis.ttl("ferry:revert:{gitlab:acme/shop:3}");
    assert.ok(ttl > 399 * 86_400 && ttl <= 400 * 86_400, `ttl ${ttl}`);
  });

  it("lets one holder at a time claim a change, and only the holder release it", async () => {
    assert.equal(await store.claim(repo, 5, "job-a", 60_000), true);
    assert.equal(await store.claim(repo, 5, "job-b", 60_000), false);
    assert.equal(await store.claim(repo, 5, "job-a", 60_000), true, "a retried job takes its claim again");
    await store.release(repo, 5, "job-b");
    assert.equal(await store.claim(repo, 5, "job-b", 60_000), false, "job-b cannot release job-a's claim");
    await store.release(repo, 5, "job-a");
    assert.equal(await store.claim(repo, 5, "job-b", 60_000), true);
    assert.equal(await store.claim(repo, 6, "job-a", 60_000), true, "claims are per change");
  });
});
