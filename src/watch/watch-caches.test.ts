import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { INVENTORY_ANNOTATION } from "../kube/labels.js";
import { WatchCache } from "./watch-cache.js";
import { WatchCaches } from "./watch-caches.js";

const items = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, n) => ({
    metadata: {
      name: `${prefix}-${n}`,
      resourceVersion: String(10 + n),
      annotations: { [INVENTORY_ANNOTATION]: "shop/ferry-inventory-x" },
    },
    data: { payload: "x".repeat(100) },
  }));

describe("WatchCaches", () => {
  test("lets its caches hold up to the limit between them; the one that would pass it is dropped", () => {
    const one = new WatchCache();
    one.replace(items("a", 10), "100");
    const limit = one.bytes * 2 + 50;
    const caches = new WatchCaches(limit);
    const cache = (path: string) => {
      const c = new WatchCache({ budget: caches });
      caches.add("c1", path, c);
      c.connection(true);
      return c;
    };
    const [first, second, third] = [cache("/a"), cache("/b"), cache("/c")];
    first.replace(items("a", 10), "100");
    second.replace(items("b", 10), "100");
    third.replace(items("c", 10), "100");
    assert.deepEqual(caches.held(), { objects: 20, bytes: first.bytes + second.bytes, dropped: 1 });
    assert.ok(caches.fresh("c1", "/a") && caches.fresh("c1", "/b"));
    assert.equal(caches.fresh("c1", "/c"), undefined, "the dropped cache is never read");

    caches.remove("c1", "/a", first);
    const fourth = cache("/d");
    fourth.replace(items("d", 10), "100");
    assert.deepEqual(caches.held(), { objects: 20, bytes: second.bytes + fourth.bytes, dropped: 1 });
  });

  test("has no limit unless given one", () => {
    const caches = new WatchCaches();
    assert.equal(caches.take(Number.MAX_SAFE_INTEGER), true);
  });
});
