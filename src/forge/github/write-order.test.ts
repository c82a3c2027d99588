import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WriteOrder, writePriority } from "./write-order.js";

describe("writePriority", () => {
  it("puts commit statuses first, deployment records and comments last, reads nowhere", () => {
    const api = "https://api.github.com/repos/acme/shop";
    assert.equal(writePriority("POST", `${api}/statuses/3f2a9c1`, "ferry/deploy/production"), 1);
    assert.equal(writePriority("POST", `${api}/statuses/3f2a9c1`, "ferry/drift/production"), undefined);
    assert.equal(writePriority("POST", `${api}/deployments`), 9);
    assert.equal(writePriority("POST", `${api}/deployments/7/statuses`), 9);
    assert.equal(writePriority("POST", `${api}/issues/2/comments`), 9);
    assert.equal(writePriority("PATCH", `${api}/issues/comments/5`), 9);
    assert.equal(writePriority("POST", `${api}/issues`), undefined);
    assert.equal(writePriority("GET", `${api}/statuses/3f2a9c1`, "ferry/deploy/production"), undefined);
  });
});

describe("WriteOrder", () => {
  it("spaces an installation's writes, and a waiting status goes before records queued earlier", async () => {
    const order = new WriteOrder(100);
    const api = "/repos/acme/shop";
    const done: string[] = [];
    const at: number[] = [];
    const write = (name: string, url: string) =>
      order.turn("1", "POST", url).then(() => {
        done.push(name);
        at.push(performance.now());
      });
    const first = write("queued", `${api}/statuses/a`);
    await first;
    const later = [write("deployment", `${api}/deployments`), write("comment", `${api}/issues/2/comments`)];
    const final = write("final", `${api}/statuses/a`);
    await order.turn("2", "POST", `${api}/deployments`); // another installation waits for no one
    await Promise.all([...later, final]);
    assert.deepEqual(done, ["queued", "final", "deployment", "comment"]);
    const gaps = at.slice(1).map((t, i) => Math.round(t - (at[i] ?? 0)));
    assert.ok(
      gaps.every((gap) => gap >= 99),
      `writes at least 100 ms apart (a busy machine may make them later, never sooner): ${gaps.join(", ")}`,
    );
  });
});
