import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, it } from "node:test";
import { ProgressStatus } from "./progress-status.js";

describe("ProgressStatus", () => {
  it("posts the first text at once, skips repeats, and posts a change only once the interval passed", async () => {
    const posted: string[] = [];
    const progress = new ProgressStatus((d) => Promise.resolve(void posted.push(d)), 100);
    progress.update("waiting: 0/3 Deployments available");
    progress.update("waiting: 0/3 Deployments available");
    progress.update("waiting: 1/3 Deployments available");
    await progress.settled();
    assert.deepEqual(posted, ["waiting: 0/3 Deployments available"]);
    await sleep(120);
    progress.update("waiting: 1/3 Deployments available");
    progress.update("waiting: 2/3 Deployments available");
    await progress.settled();
    assert.deepEqual(posted, ["waiting: 0/3 Deployments available", "waiting: 1/3 Deployments available"]);
  });

  it("posts one at a time, and settles only once every post finished", async () => {
    const events: string[] = [];
    const progress = new ProgressStatus(async (d) => {
      events.push(`start ${d}`);
      await sleep(30);
      events.push(`end ${d}`);
    }, 0);
    progress.update("a");
    progress.update("b");
    await progress.settled();
    assert.deepEqual(events, ["start a", "end a", "start b", "end b"]);
  });

  it("drops a failed post: progress is best effort", async () => {
    const progress = new ProgressStatus(() => Promise.reject(new Error("forge down")), 0);
    progress.update("a");
    await progress.settled();
  });
});
