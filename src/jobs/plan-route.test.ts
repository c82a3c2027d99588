import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import type { Redis } from "ioredis";
import { startTestRedis } from "../../test/support/redis.js";
import type { PlanRequest } from "../domain/requests.js";
import { createLogger } from "../logger.js";
import { PlanHandover } from "../queue/plan-handover.js";
import { QueueLayout } from "../queue/queue-layout.js";
import { connectRedis } from "../queue/redis-connection.js";
import { watchTargets } from "../watch/drift-watch.js";
import { WatchRegistry, type WatchedEnvironment } from "../watch/watch-registry.js";
import { holderAttempt, planHolder } from "./plan-route.js";

const repo = { forge: "github", fullName: "acme/shop" } as const;
const request = { repo, change: 3, headSha: "abc", baseBranch: "main", deliveryId: "d" } as unknown as PlanRequest;

/** A watched environment of `repo` on `branch`, with objects in `collections`. */
const watched = (environment: string, collections: string[], branch = "main"): WatchedEnvironment => ({
  data: {
    repo,
    branch,
    environment,
    cluster: "one",
    namespace: environment,
    drift: "report",
    everyMs: 60_000,
  },
  inventory: `${environment}/inv`,
  collections,
});

describe("planHolder", () => {
  let server: Awaited<ReturnType<typeof startTestRedis>>;
  let redis: Redis;
  let registry: WatchRegistry;
  const deps = () => ({
    redis,
    registry,
    handover: new PlanHandover(redis, QueueLayout.single()),
    owner: "me",
    log: createLogger({ level: "silent" }),
  });
  /** Gives the lease of `env`'s watch of `path` to `owner`, as a watch supervisor takes it. */
  const lease = async (env: WatchedEnvironment, path: string, owner: string) => {
    const target = watchTargets([{ ...env, collections: [path] }]).targets[0];
    assert.ok(target);
    await redis.set(`ferry:watch-lease:{${target.id}}`, owner, "PX", 30_000);
  };

  before(async () => {
    server = await startTestRedis();
    redis = connectRedis(server.url);
    registry = new WatchRegistry(redis);
  });
  beforeEach(() => redis.flushall());
  after(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it("plans here when nothing of the change's branch is watched, or nobody holds its watches", async () => {
    assert.equal(await planHolder(request, deps()), undefined);
    const env = watched("prod", ["/api/v1/namespaces/prod/configmaps"]);
    await registry.record("r1", env);
    assert.equal(await planHolder(request, deps()), undefined);
  });

  it("names the worker holding most of the watches; ties and a majority of its own stay here", async () => {
    const paths = [
      "/api/v1/namespaces/prod/configmaps",
      "/api/v1/namespaces/prod/secrets",
      "/apis/apps/v1/namespaces/prod/deployments",
    ];
    const env = watched("prod", paths);
    await registry.record("r1", env);
    await lease(env, paths[0] as string, "other");
    await lease(env, paths[1] as string, "third");
    await lease(env, paths[2] as string, "other");
    assert.equal(await planHolder(request, deps()), "other");
    await lease(env, paths[2] as string, "me");
    assert.equal(await planHolder(request, deps()), undefined, "one each: planned here");
  });

  it("counts only the environments the plan is for: its base branch, the one environment asked for", async () => {
    const other = watched("staging", ["/api/v1/namespaces/staging/configmaps"], "develop");
    await registry.record("r2", other);
    await lease(other, "/api/v1/namespaces/staging/configmaps", "other");
    assert.equal(await planHolder(request, deps()), undefined, "another branch's watches do not count");
    const prod = watched("prod", ["/api/v1/namespaces/prod/configmaps"]);
    await registry.record("r1", prod);
    await lease(prod, "/api/v1/namespaces/prod/configmaps", "other");
    assert.equal(await planHolder(request, deps()), "other");
    assert.equal(await planHolder({ ...request, environment: "qa" }, deps()), undefined);
  });
});

describe("holderAttempt", () => {
  it("is never the last attempt, so the holder leaves a transient failure to the fallback", () => {
    assert.deepEqual(holderAttempt({ number: 8, of: 8 }), { number: 8, of: 9 });
    assert.deepEqual(holderAttempt({ number: 1, of: 8 }), { number: 1, of: 8 });
  });
});
