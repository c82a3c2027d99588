import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { KubeClient } from "../src/kube/kube-client.js";
import { createLogger } from "../src/logger.js";
import { connectRedis } from "../src/queue/redis-connection.js";
import { WatchCaches } from "../src/watch/watch-caches.js";
import { WatchSupervisor, type WatchTarget } from "../src/watch/watch-supervisor.js";
import { createTestNamespace, testKubeConfig } from "./support/kube.js";
import { startTestRedis } from "./support/redis.js";
import { waitUntil } from "./support/wait-until.js";

const log = createLogger({ level: "silent" });

/** Two processes' supervisors sharing targets on a real redis-server, watching the run's API server. */
describe("WatchSupervisor", () => {
  const kc = testKubeConfig();
  let client: KubeClient;
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let targets: WatchTarget[];
  const connections: Array<ReturnType<typeof connectRedis>> = [];

  before(async () => {
    client = await KubeClient.fromKubeConfig(kc);
    redis = await startTestRedis();
    const namespaces = [await createTestNamespace(kc, "sup"), await createTestNamespace(kc, "sup")];
    targets = namespaces.map((ns) => ({
      id: `test/${ns}/configmaps`,
      cluster: "test",
      path: `/api/v1/namespaces/${ns}/configmaps`,
    }));
  });
  after(async () => {
    client.close();
    for (const c of connections) c.disconnect();
    await redis.stop();
  });

  /** A supervisor for process `owner`, recording the changes it is told (and keeping caches in `caches`, if given). */
  const supervisor = (owner: string, caches?: WatchCaches) => {
    const seen: string[] = [];
    const connection = connectRedis(redis.url);
    connections.push(connection);
    const s = new WatchSupervisor({
      redis: connection,
      owner,
      leaseMs: 900,
      targets: () => Promise.resolve(targets),
      client: () => Promise.resolve(client),
      onChange: (target, event) =>
        seen.push(`${target.path.split("/")[4]} ${event.type} ${event.object.metadata?.name ?? ""}`),
      onResync: () => seen.push("resync"),
      log,
      ...(caches === undefined ? {} : { caches }),
    });
    s.start();
    return { s, seen };
  };
  const create = (target: WatchTarget | undefined, name: string) =>
    client.call("POST", target?.path ?? "", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name },
      data: { v: "1" },
    });

  test("each target is watched by one process; when it dies, another takes over and is told what changed meanwhile", async () => {
    const [one, two] = targets;
    const a = supervisor("a");
    await waitUntil(
      () => `a holds ${JSON.stringify(a.s.held())}`,
      () => a.s.held().length === 2,
      10_000,
    );
    const b = supervisor("b");
    try {
      await create(one, "first");
      await waitUntil(
        () => `a saw ${JSON.stringify(a.seen)}`,
        () => a.seen.some((e) => e.endsWith("ADDED first")),
        10_000,
      );
      assert.deepEqual(b.s.held(), [], "b waits while a holds the leases");
      assert.equal(b.seen.length, 0);

      // a dies without freeing its leases; what changes before b takes over still reaches b.
      await a.s.stop({ release: false });
      await create(one, "meanwhile");
      await create(two, "meanwhile-too");
      await waitUntil(
        () => `b holds ${JSON.stringify(b.s.held())}`,
        () => b.s.held().length === 2,
        10_000,
      );
      await waitUntil(
        () => `b saw ${JSON.stringify(b.seen)}`,
        () =>
          b.seen.some((e) => e.endsWith("ADDED meanwhile")) && b.seen.some((e) => e.endsWith("ADDED meanwhile-too")),
        10_000,
      );
      assert.ok(
        !b.seen.some((e) => e.endsWith("ADDED first")),
        `nothing a was told is told again: ${JSON.stringify(b.seen)}`,
      );
    } finally {
      await b.s.stop();
    }
  });

  test("with caches, a process taking a watch over fills its cache and trusts it once caught up", async () => {
    const [one] = targets;
    assert.ok(one);
    const aCaches = new WatchCaches();
    const a = supervisor("cache-a", aCaches);
    try {
      // a too resumes from the version recorded before it, so its cache is trusted once a change takes it past its list.
      await waitUntil(
        () => `a holds ${JSON.stringify(a.s.held())}`,
        () => a.s.held().length === 2,
        10_000,
      );
      await create(one, "cached-first");
      await waitUntil(
        "a's cache never became fresh with the new object",
        () => !!aCaches.fresh("test", one.path)?.get("cached-first"),
        10_000,
        20,
      );
    } finally {
      await a.s.stop({ release: false });
    }
    assert.equal(aCaches.fresh("test", one.path), undefined, "a stopped watch's cache is dropped");

    const bCaches = new WatchCaches();
    await create(one, "cached-meanwhile");
    const b = supervisor("cache-b", bCaches);
    try {
      // b resumes from a's version, so it is told what changed meanwhile, and lists to fill its cache.
      await waitUntil(
        () => `b saw ${JSON.stringify(b.seen)}`,
        () => b.seen.some((e) => e.endsWith("ADDED cached-meanwhile")),
        10_000,
      );
      // Trusted once its replay reaches the list's version, or (when other writes came after) the next change.
      await create(one, "cached-after");
      await waitUntil(
        "b's cache never became fresh with the last change",
        () => !!bCaches.fresh("test", one.path)?.get("cached-after"),
        10_000,
        20,
      );
      const cache = bCaches.fresh("test", one.path);
      for (const name of ["first", "meanwhile", "cached-first", "cached-meanwhile", "cached-after"])
        assert.ok(cache?.get(name), `b's cache holds ${name}`);
    } finally {
      await b.s.stop();
    }
  });

  test("a target no longer wanted is dropped and its lease freed", async () => {
    const c = supervisor("c");
    try {
      await waitUntil(
        () => `c holds ${JSON.stringify(c.s.held())}`,
        () => c.s.held().length === 2,
        10_000,
      );
      const kept = targets;
      targets = kept.slice(0, 1);
      await waitUntil(
        () => `c holds ${JSON.stringify(c.s.held())}`,
        () => c.s.held().length === 1,
        10_000,
      );
      const dropped = kept[1]?.id ?? "";
      await waitUntil(
        "the dropped target's lease was never freed",
        async () => (await connections[0]?.get(`ferry:watch-lease:{${dropped}}`)) === null,
        10_000,
      );
      targets = kept;
    } finally {
      await c.s.stop();
    }
  });
});
