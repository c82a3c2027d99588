import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FerryError } from "../errors.js";
import { CLUSTER_SLOTS, keySlot } from "./key-slot.js";
import { QueueLayout } from "./queue-layout.js";

describe("QueueLayout", () => {
  test("one Redis server: one group under BullMQ's default prefix, nothing drained", () => {
    const layout = QueueLayout.single();
    assert.deepEqual(layout.consumed(), [undefined]);
    assert.equal(layout.groupOf("repo:github:acme/shop"), 0);
  });

  test("a Cluster with one group keeps the {ferry} tag of before", () => {
    assert.deepEqual(QueueLayout.cluster(1).groups, ["{ferry}"]);
    assert.deepEqual(QueueLayout.cluster(1).draining, []);
  });

  test("group g's hash tag is in the g-th equal slice of the slots, for every count; {ferry} is drained", () => {
    for (let count = 2; count <= 64; count++) {
      const layout = QueueLayout.cluster(count);
      assert.deepEqual(layout.draining, ["{ferry}"]);
      assert.equal(new Set(layout.groups).size, count);
      layout.groups.forEach((prefix, g) => {
        assert.match(prefix ?? "", /^\{ferry:\d+:\d+\}$/);
        const slot = keySlot(prefix ?? "");
        const from = Math.floor((g * CLUSTER_SLOTS) / count);
        const to = Math.floor(((g + 1) * CLUSTER_SLOTS) / count);
        assert.ok(slot >= from && slot < to, `${prefix} (slot ${slot}) of ${count} not in [${from}, ${to})`);
      });
    }
  });

  test("routing keys spread over the groups, each always to the same one", () => {
    const layout = QueueLayout.cluster(6);
    const counts = Array.from({ length: 6 }, () => 0);
    for (let i = 0; i < 6000; i++) {
      const group = layout.groupOf(`cluster:edge-${i}`);
      assert.equal(layout.groupOf(`cluster:edge-${i}`), group);
      counts[group] = (counts[group] ?? 0) + 1;
    }
    for (const n of counts) assert.ok(n > 800 && n < 1200, `groups got ${counts.join(", ")}`);
  });

  test("refuses a count outside 1 to 64", () => {
    for (const count of [0, 65, 2.5])
      assert.throws(
        () => QueueLayout.cluster(count),
        (e: unknown) => e instanceof FerryError && /from 1 to 64/.test(e.message),
      );
  });
});
