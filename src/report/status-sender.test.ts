import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { permanent, transient } from "../errors.js";
import type { CommitStatus, StatusState } from "../forge/types.js";
import { StatusSender, type UndeliveredStatus } from "./status-sender.js";

const status = (
  description: string,
  state: StatusState = "running",
  context = "ferry/deploy/staging",
): CommitStatus => ({ context, state, description });

/** A forge's status endpoint that answers only when the test says so, recording what it was sent. */
class SlowForge {
  readonly sent: string[] = [];
  private readonly waiting: Array<{ description: string; answer: (error?: Error) => void }> = [];
  /** Errors for the next sends, in order (undefined: accepted). */
  readonly failures: Array<Error | undefined> = [];

  readonly send = (_sha: string, s: CommitStatus): Promise<void> => {
    const failure = this.failures.shift();
    if (failure !== undefined) return Promise.reject(failure);
    return new Promise<void>((resolve, reject) =>
      this.waiting.push({
        description: s.description,
        answer: (error) => (error ? reject(error) : (this.sent.push(s.description), resolve())),
      }),
    );
  };

  /** Answers the oldest send in flight, once one is. */
  async answer(error?: Error): Promise<string> {
    while (this.waiting.length === 0) await new Promise((r) => setTimeout(r, 1));
    const next = this.waiting.shift();
    next?.answer(error);
    return next?.description ?? "";
  }

  /** Answers every send until `sender` settles. */
  async drain(sender: StatusSender): Promise<void> {
    let done = false;
    const settled = sender.settled().finally(() => (done = true));
    while (!done) {
      if (this.waiting.length > 0) await this.answer();
      await new Promise((r) => setTimeout(r, 1));
    }
    await settled;
  }
}

describe("StatusSender", () => {
  it("returns at once and sends in order, one at a time; a backlog of intermediate statuses collapses to the latest", async () => {
    const forge = new SlowForge();
    const sender = new StatusSender(forge.send);
    sender.post("a", status("queued", "pending"));
    for (const d of ["deploying", "waiting: 0/1", "waiting: 1/2"]) sender.post("a", status(d));
    assert.equal(await forge.answer(), "queued");
    await forge.drain(sender);
    assert.deepEqual(forge.sent, ["queued", "waiting: 1/2"]);
  });

  it("with a hold, an intermediate status something newer replaces within it is never sent; the final one goes at once", async () => {
    const forge = new SlowForge();
    const sender = new StatusSender(forge.send, { holdMs: 60_000 });
    const start = Date.now();
    sender.post("a", status("queued", "pending"));
    sender.post("a", status("deploying"));
    await new Promise((r) => setTimeout(r, 20));
    sender.post("a", status("deployed", "success"));
    await forge.drain(sender);
    assert.deepEqual(forge.sent, ["deployed"]);
    assert.ok(Date.now() - start < 10_000, "the final status did not wait for the hold");
  });

  it("with a hold, an intermediate status nothing replaces is sent once the hold has passed", async () => {
    const forge = new SlowForge();
    const sentAt: number[] = [];
    const sender = new StatusSender((sha, s) => (sentAt.push(Date.now()), forge.send(sha, s)), { holdMs: 200 });
    const made = Date.now();
    sender.post("a", status("queued", "pending"));
    await forge.drain(sender);
    assert.deepEqual(forge.sent, ["queued"]);
    assert.ok((sentAt[0] ?? 0) - made >= 200, `sent ${(sentAt[0] ?? 0) - made} ms after it was made`);
  });

  it("never drops a final status, nor sends anything before it that was posted after it", async () => {
    const forge = new SlowForge();
    const sender = new StatusSender(forge.send);
    sender.post("a", status("deploying"));
    sender.post("a", status("waiting: 0/1"));
    sender.post("a", status("deployed", "success"));
    sender.post("a", status("included in release of abc", "success"));
    sender.post("a", status("late progress"));
    await forge.drain(sender);
    assert.deepEqual(forge.sent, ["deploying", "deployed", "included in release of abc", "late progress"]);
  });

  it("keeps each (commit, context) apart: a slow one holds no other", async () => {
    const forge = new SlowForge();
    const sender = new StatusSender(forge.send);
    sender.post("a", status("slow", "pending", "ferry/deploy/staging"));
    sender.post("a", status("other context", "pending", "ferry/deploy/production"));
    sender.post("b", status("other commit", "pending", "ferry/deploy/staging"));
    // All three are in flight at once.
    assert.deepEqual(
      new Set([await forge.answer(), await forge.answer(), await forge.answer()]),
      new Set(["slow", "other context", "other commit"]),
    );
    await sender.settled();
  });

  it("stamps each status with when it was made", () => {
    const seen: CommitStatus[] = [];
    const sender = new StatusSender((_sha, s) => (seen.push(s), Promise.resolve()));
    const before = Date.now();
    sender.post("a", status("queued", "pending"));
    assert.ok((seen[0]?.madeAt ?? 0) >= before);
  });

  it("tries a failing status again in the background, with doubling waits", async () => {
    const forge = new SlowForge();
    const undelivered: UndeliveredStatus[] = [];
    const retries: Array<[number, number]> = [];
    const sender = new StatusSender(forge.send, {
      delayMs: 5,
      onUndelivered: (u) => undelivered.push(u),
      onRetry: (r) => retries.push([r.attempt, r.retryInMs]),
    });
    forge.failures.push(transient("GitLab: 502"), transient("GitLab: 502"));
    sender.post("a", status("deployed", "success"));
    await forge.drain(sender);
    assert.deepEqual(forge.sent, ["deployed"]);
    assert.deepEqual(undelivered, []);
    assert.deepEqual(retries, [
      [1, 5],
      [2, 10],
    ]);
  });

  it("gives up an intermediate status that keeps failing once a newer one came, and sends the newer one", async () => {
    const forge = new SlowForge();
    const undelivered: UndeliveredStatus[] = [];
    const sender = new StatusSender(forge.send, { delayMs: 20, onUndelivered: (u) => undelivered.push(u) });
    forge.failures.push(transient("502"));
    sender.post("a", status("deploying"));
    sender.post("a", status("deployed", "success"));
    await forge.drain(sender);
    assert.deepEqual(forge.sent, ["deployed"]);
    assert.deepEqual(undelivered, [], "a status replaced by a newer one is not a failure");
  });

  it("a status the forge refuses is not retried, is told, and does not fail settled", async () => {
    const forge = new SlowForge();
    const undelivered: UndeliveredStatus[] = [];
    const sender = new StatusSender(forge.send, { delayMs: 5, onUndelivered: (u) => undelivered.push(u) });
    forge.failures.push(permanent("GitHub: 403 Resource not accessible by integration"));
    sender.post("a", status("failed", "failure"));
    await sender.settled();
    assert.deepEqual(forge.sent, []);
    assert.deepEqual(
      undelivered.map((u) => [u.status.description, u.refused]),
      [["failed", true]],
    );
  });

  it("a final status still failing after every try fails settled, so the job is retried", async () => {
    const forge = new SlowForge();
    const undelivered: UndeliveredStatus[] = [];
    const sender = new StatusSender(forge.send, { attempts: 3, delayMs: 1, onUndelivered: (u) => undelivered.push(u) });
    forge.failures.push(transient("503"), transient("503"), transient("503"));
    sender.post("a", status("deployed", "success"));
    await assert.rejects(sender.settled(), /503/);
    assert.deepEqual(
      undelivered.map((u) => [u.status.description, u.refused]),
      [["deployed", false]],
    );
    // Told once: the next settle has nothing more to report.
    await sender.settled();
  });
});
