import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { KubeClient, type WatchEvent } from "../src/kube/kube-client.js";
import { createLogger } from "../src/logger.js";
import { ResourceWatch } from "../src/watch/resource-watch.js";
import { createTestNamespace, testKubeConfig, testKubeConfigPath } from "./support/kube.js";
import { waitUntil } from "./support/wait-until.js";

const log = createLogger({ level: "silent" });
const SELECTOR = "app.kubernetes.io/managed-by=ferry";

/** ResourceWatch against the run's API server: real watches, real resource versions, a real 410. */
describe("ResourceWatch", () => {
  const kc = testKubeConfig();
  let client: KubeClient;
  let namespace: string;
  let path: string;
  const configMap = (name: string, labelled: boolean, v = "1") => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, ...(labelled ? { labels: { "app.kubernetes.io/managed-by": "ferry" } } : {}) },
    data: { v },
  });

  before(async () => {
    client = await KubeClient.fromKubeConfig(kc);
    namespace = await createTestNamespace(kc, "watch");
    path = `/api/v1/namespaces/${namespace}/configmaps`;
  });
  after(() => client.close());

  /** Starts a watch that records what it is told. */
  const watching = (extra: { resourceVersion?: string } = {}) => {
    const events: WatchEvent[] = [];
    const watch = new ResourceWatch({
      client,
      path,
      labelSelector: SELECTOR,
      log,
      onChange: (e) => events.push(e),
      ...extra,
    });
    watch.start();
    return { watch, seen: () => events.map((e) => `${e.type} ${e.object.metadata?.name ?? ""}`) };
  };

  test("tells each change to a labelled object, in order, and nothing of the others", async () => {
    const w = watching();
    try {
      await waitUntil("the watch never started", () => w.watch.resourceVersion !== undefined, 10_000);
      await client.call("POST", path, configMap("other", false));
      await client.call("POST", path, configMap("web", true));
      await client.call("PUT", `${path}/web`, configMap("web", true, "2"));
      await client.call("DELETE", `${path}/web`);
      // The last event the watch would see proves every earlier one had its chance to arrive.
      await waitUntil(
        () => `saw ${JSON.stringify(w.seen())}`,
        () => w.seen().includes("DELETED web"),
        10_000,
      );
      assert.deepEqual(w.seen(), ["ADDED web", "MODIFIED web", "DELETED web"]);
    } finally {
      await w.watch.stop();
    }
  });

  test("a version too old to start from (410 Gone) starts over from a fresh list, says so, and goes on watching", async () => {
    // Events are read from etcd, not the API server's watch cache, so compacting etcd past a version
    // makes a watch from it expire for real.
    const events = `/api/v1/namespaces/${namespace}/events`;
    const event = (name: string) => ({
      apiVersion: "v1",
      kind: "Event",
      metadata: { name },
      involvedObject: { kind: "ConfigMap", namespace, name: "web" },
      reason: "Test",
      message: name,
      type: "Normal",
    });
    const created = async (name: string) =>
      ((await client.call("POST", events, event(name))) as { metadata: { resourceVersion: string } }).metadata
        .resourceVersion;
    const old = await created("before");
    await created("later");
    // A watch from `old` starts at the revision after it ("later"), which this compaction removes.
    const now = await created("latest");
    const etcd = (await readFile(join(dirname(testKubeConfigPath()), "etcd.url"), "utf8")).trim();
    const compacted = await fetch(`${etcd}/v3/kv/compaction`, {
      method: "POST",
      body: JSON.stringify({ revision: now, physical: true }),
    });
    assert.equal(compacted.status, 200, await compacted.text());

    const seen: string[] = [];
    let resyncs = 0;
    const watch = new ResourceWatch({
      client,
      path: events,
      log,
      resourceVersion: old,
      onChange: (e) => seen.push(`${e.type} ${e.object.metadata?.name ?? ""}`),
      onResync: () => resyncs++,
    });
    watch.start();
    try {
      await waitUntil("no resync", () => resyncs > 0, 10_000);
      await waitUntil("the watch never started again", () => watch.resourceVersion !== undefined, 10_000);
      await client.call("POST", events, event("after-resync"));
      await waitUntil(
        () => `saw ${JSON.stringify(seen)}`,
        () => seen.includes("ADDED after-resync"),
        10_000,
      );
      assert.deepEqual(seen, ["ADDED after-resync"], "what came before the fresh list is not told again");
    } finally {
      await watch.stop();
    }
  });

  test("carries on from the version it saw: a new watch started there sees only what came after", async () => {
    const first = watching();
    await waitUntil("the watch never started", () => first.watch.resourceVersion !== undefined, 10_000);
    await client.call("POST", path, configMap("one", true));
    await waitUntil(
      () => `saw ${JSON.stringify(first.seen())}`,
      () => first.seen().includes("ADDED one"),
      10_000,
    );
    await first.watch.stop();
    await client.call("POST", path, configMap("two", true));

    const second = watching({ resourceVersion: first.watch.resourceVersion ?? "" });
    try {
      await client.call("POST", path, configMap("three", true));
      await waitUntil(
        () => `saw ${JSON.stringify(second.seen())}`,
        () => second.seen().includes("ADDED three"),
        10_000,
      );
      assert.deepEqual(second.seen(), ["ADDED two", "ADDED three"], "nothing twice, nothing lost");
      assert.deepEqual(first.seen(), ["ADDED one"], "a stopped watch is told nothing more");
    } finally {
      await second.watch.stop();
    }
  });
});
