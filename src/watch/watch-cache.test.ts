import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { WatchEvent } from "../kube/kube-client.js";
import { INVENTORY_ANNOTATION } from "../kube/labels.js";
import { WatchCache } from "./watch-cache.js";

const item = (name: string, resourceVersion: string, data: Record<string, string> = {}) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, resourceVersion, annotations: { [INVENTORY_ANNOTATION]: "shop/ferry-inventory-x" } },
  data,
});
const event = (type: WatchEvent["type"], object: ReturnType<typeof item>): WatchEvent => ({ type, object });
const bookmark = (resourceVersion: string): WatchEvent => ({
  type: "BOOKMARK",
  object: { metadata: { resourceVersion } },
});

/** A cache on a clock the test moves. */
function cache(maxSilenceMs = 1000) {
  const clock = { now: 0 };
  return { clock, cache: new WatchCache({ maxSilenceMs, now: () => clock.now }) };
}

describe("WatchCache", () => {
  test("holds a list's objects and follows the watch's events", () => {
    const { cache: c } = cache();
    c.replace([item("a", "10", { v: "1" }), item("b", "11")], "12");
    assert.deepEqual(c.get("a"), { resourceVersion: "10", inventory: "shop/ferry-inventory-x" });
    c.apply(event("MODIFIED", item("a", "13", { v: "2" })));
    c.apply(event("ADDED", item("c", "14")));
    c.apply(event("DELETED", item("b", "15")));
    assert.equal(c.get("a")?.resourceVersion, "13");
    assert.deepEqual((c.object("a") as { data?: unknown }).data, { v: "2" });
    assert.equal(c.get("b"), undefined, "a deleted object is gone");
    assert.equal(c.object("b"), undefined);
    assert.equal(c.count, 2);
  });

  test("counts the JSON it holds, and gives it back when objects go", () => {
    const { cache: c } = cache();
    c.replace([item("a", "1", { v: "x".repeat(100) })], "1");
    const one = c.bytes;
    assert.ok(one > 100);
    c.apply(event("ADDED", item("b", "2", { v: "x".repeat(100) })));
    assert.equal(c.bytes, one * 2);
    c.apply(event("MODIFIED", item("a", "3", { v: "x".repeat(100) })));
    assert.equal(c.bytes, one * 2, "a modified object replaces its old text");
    c.apply(event("DELETED", item("a", "4")));
    c.apply(event("DELETED", item("b", "5")));
    assert.equal(c.bytes, 0);
  });

  test("the object it gives is a copy: changing it changes nothing cached", () => {
    const { cache: c } = cache();
    c.replace([item("a", "1", { v: "1" })], "1");
    const copy = c.object("a") as { data: Record<string, string> };
    copy.data.v = "changed";
    assert.deepEqual((c.object("a") as { data?: unknown }).data, { v: "1" });
  });

  test("is fresh only when listed, connected and heard from within the silence allowed", () => {
    const { cache: c, clock } = cache(1000);
    assert.equal(c.fresh(), false, "never listed");
    c.replace([item("a", "1")], "5");
    assert.equal(c.fresh(), false, "listed, but its watch is not connected");
    c.connection(true);
    assert.equal(c.fresh(), true);
    clock.now = 1001;
    assert.equal(c.fresh(), false, "silent for longer than allowed: the connection may be dead");
    c.apply(bookmark("6"));
    assert.equal(c.fresh(), true, "a bookmark says the watch is alive");
    c.connection(false);
    assert.equal(c.fresh(), false, "disconnected");
    c.connection(true);
    c.invalidate();
    assert.equal(c.fresh(), false, "its version expired: it must list again");
    assert.equal(c.count, 0);
  });

  test("a watch resumed from an older version replays onto the list, and is trusted once past it", () => {
    const { cache: c } = cache();
    // Listed at 20; the watch carries on from 10, where a process that died had got to.
    c.replace([item("a", "18", { v: "new" })], "20", "10");
    c.connection(true);
    assert.equal(c.fresh(), false, "not caught up with the list yet");
    c.apply(event("MODIFIED", item("a", "12", { v: "old" })));
    c.apply(event("ADDED", item("gone", "14")));
    c.apply(event("DELETED", item("gone", "15")));
    assert.equal(c.fresh(), false);
    c.apply(event("MODIFIED", item("a", "18", { v: "new" })));
    assert.equal(c.fresh(), false, "18 is older than the list");
    c.apply(bookmark("21"));
    assert.equal(c.fresh(), true);
    assert.deepEqual((c.object("a") as { data?: unknown }).data, { v: "new" });
    assert.equal(c.get("gone"), undefined);
  });

  test("a fill page by page keeps the old contents until it is done, then swaps them for the list's", () => {
    const { cache: c } = cache();
    c.replace([item("old", "1")], "1");
    c.connection(true);
    const fill = c.fill();
    fill.add([item("a", "5")]);
    fill.add([item("b", "6")]);
    assert.ok(c.get("old") && c.get("a") === undefined, "still the old contents while filling");
    fill.done("7");
    assert.equal(c.get("old"), undefined);
    assert.deepEqual([c.get("a")?.resourceVersion, c.get("b")?.resourceVersion], ["5", "6"]);
    assert.equal(c.bytes, JSON.stringify(item("a", "5")).length + JSON.stringify(item("b", "6")).length);
    assert.equal(c.fresh(), true);
  });

  test("versions that are not etcd revisions are never taken as caught up", () => {
    const { cache: c } = cache();
    c.replace([], "abc");
    c.connection(true);
    c.apply(bookmark("def"));
    assert.equal(c.fresh(), false);
  });
});

describe("WatchCache with an allowance", () => {
  /** An allowance of `limit` characters, as WatchCaches keeps it. */
  const allowance = (limit: number) => ({
    used: 0,
    take(chars: number) {
      if (chars > 0 && this.used + chars > limit) return false;
      this.used += chars;
      return true;
    },
  });
  const size = (...items: ReturnType<typeof item>[]) => items.reduce((n, i) => n + JSON.stringify(i).length, 0);

  test("counts what it holds against the allowance, and gives back what goes", () => {
    const budget = allowance(10_000);
    const c = new WatchCache({ budget });
    c.replace([item("a", "10"), item("b", "11")], "12");
    assert.equal(budget.used, c.bytes);
    assert.equal(budget.used, size(item("a", "10"), item("b", "11")));
    c.apply(event("DELETED", item("b", "13")));
    assert.equal(budget.used, size(item("a", "10")));
    c.replace([item("c", "14")], "15");
    assert.equal(budget.used, size(item("c", "14")), "a new list replaces the old one's share");
    c.close();
    assert.equal(budget.used, 0);
    c.apply(event("ADDED", item("d", "16")));
    assert.equal(budget.used, 0, "a closed cache takes nothing more");
  });

  test("drops everything, says so once and is never fresh again when an event would pass the allowance", () => {
    const one = size(item("a", "10", { v: "1" }));
    const budget = allowance(one * 2);
    let told = 0;
    const c = new WatchCache({ budget, onDropped: () => told++ });
    c.connection(true);
    c.replace([item("a", "10", { v: "1" })], "10");
    c.apply(bookmark("11"));
    assert.ok(c.fresh());
    c.apply(event("ADDED", item("b", "12", { v: "2" })));
    assert.ok(c.fresh(), "two objects fit");
    c.apply(event("ADDED", item("c", "13", { v: "3" })));
    assert.equal(told, 1);
    assert.equal(c.spent, true);
    assert.equal(c.fresh(), false);
    assert.equal(c.count, 0);
    assert.equal(budget.used, 0, "what it held is given back");
    c.apply(event("ADDED", item("d", "14")));
    c.replace([item("e", "15")], "15");
    assert.equal(c.count, 0, "a dropped cache holds nothing, even from a new list");
    assert.equal(told, 1);
  });

  test("a list that would pass the allowance is dropped, giving back what it took while it filled", () => {
    const budget = allowance(size(item("a", "10")) + 10);
    let told = 0;
    const c = new WatchCache({ budget, onDropped: () => told++ });
    const fill = c.fill();
    fill.add([item("a", "10"), item("b", "11")]);
    fill.done("12");
    assert.equal(told, 1);
    assert.equal(c.count, 0);
    assert.equal(budget.used, 0);
  });
});
