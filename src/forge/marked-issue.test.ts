import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { closeMarkedIssue, ensureMarkedIssue, type IssueOps, type OpenIssue } from "./marked-issue.js";

const marker = "<!-- ferry:drift:staging -->";

/** Issues in memory, with every call recorded; the forges' own tests run the real ones over HTTP. */
class MemoryIssues implements IssueOps {
  readonly calls: string[] = [];
  readonly issues: Array<OpenIssue & { open: boolean; comments: string[] }> = [];
  failClose = false;

  add(title: string, body: string, open = true): number {
    const number = this.issues.length + 1;
    this.issues.push({ number, title, body, url: `https://forge.example/issues/${number}`, open, comments: [] });
    return number;
  }

  ownOpenIssues(): Promise<OpenIssue[]> {
    this.calls.push("list");
    return Promise.resolve(
      this.issues.filter((i) => i.open).map(({ number, title, body, url }) => ({ number, title, body, url })),
    );
  }

  create(title: string, body: string): Promise<{ number: number; url: string }> {
    this.calls.push(`create ${title}`);
    const number = this.add(title, body);
    return Promise.resolve({ number, url: `https://forge.example/issues/${number}` });
  }

  edit(number: number, title: string, body: string): Promise<void> {
    this.calls.push(`edit #${number}`);
    Object.assign(this.find(number), { title, body });
    return Promise.resolve();
  }

  hasOwnComment(number: number, body: string): Promise<boolean> {
    return Promise.resolve(this.find(number).comments.includes(body));
  }

  comment(number: number, body: string): Promise<void> {
    this.calls.push(`comment #${number}`);
    this.find(number).comments.push(body);
    return Promise.resolve();
  }

  close(number: number): Promise<void> {
    if (this.failClose) return Promise.reject(new Error("503 from the forge"));
    this.calls.push(`close #${number}`);
    this.find(number).open = false;
    return Promise.resolve();
  }

  private find(number: number): MemoryIssues["issues"][number] {
    const issue = this.issues.find((i) => i.number === number);
    if (issue === undefined) throw new Error(`no issue #${number}`);
    return issue;
  }
}

describe("ensureMarkedIssue", () => {
  test("opens the issue with the marker once, then edits it only when title or body change", async () => {
    const ops = new MemoryIssues();
    assert.deepEqual(await ensureMarkedIssue(ops, marker, "Drift in staging", "1 field"), {
      number: 1,
      created: true,
      url: "https://forge.example/issues/1",
    });
    assert.deepEqual(await ensureMarkedIssue(ops, marker, "Drift in staging", "1 field"), {
      number: 1,
      created: false,
      url: "https://forge.example/issues/1",
    });
    await ensureMarkedIssue(ops, marker, "Drift in staging", "2 fields");
    await ensureMarkedIssue(ops, marker, "Drift in staging (2)", "2 fields");
    await ensureMarkedIssue(ops, marker, " Drift in staging (2)\n", "2 fields");
    assert.deepEqual(ops.calls, [
      "list",
      "create Drift in staging",
      "list",
      "list",
      "edit #1",
      "list",
      "edit #1",
      "list",
    ]);
    assert.deepEqual(
      ops.issues.map((i) => [i.title, i.body]),
      [["Drift in staging (2)", `${marker}\n2 fields`]],
    );
  });

  test("keeps the oldest issue holding the marker and closes newer duplicates; other markers are left alone", async () => {
    const ops = new MemoryIssues();
    ops.add("Drift in production", "<!-- ferry:drift:production -->\nx");
    ops.add("Drift in staging", `${marker}\nold`);
    ops.add("Drift in staging", `${marker}\nraced`);
    const ensured = await ensureMarkedIssue(ops, marker, "Drift in staging", "new");
    assert.deepEqual([ensured.number, ensured.created], [2, false]);
    assert.deepEqual(
      ops.issues.map((i) => [i.number, i.open, i.comments]),
      [
        [1, true, []],
        [2, true, []],
        [3, false, ["Closed as a duplicate of #2."]],
      ],
    );
  });
});

describe("closeMarkedIssue", () => {
  test("comments and closes the open issue, false when none is open, and a new drift opens a new issue", async () => {
    const ops = new MemoryIssues();
    assert.equal(await closeMarkedIssue(ops, marker, "Back in sync."), false);
    await ensureMarkedIssue(ops, marker, "Drift in staging", "1 field");
    assert.equal(await closeMarkedIssue(ops, marker, "Back in sync."), true);
    assert.equal(await closeMarkedIssue(ops, marker, "Back in sync."), false);
    assert.deepEqual(
      ops.issues.map((i) => [i.number, i.open, i.comments]),
      [[1, false, ["Back in sync."]]],
    );
    assert.equal((await ensureMarkedIssue(ops, marker, "Drift in staging", "again")).number, 2);
  });

  test("a retry after a failed close comments once", async () => {
    const ops = new MemoryIssues();
    ops.add("Drift in staging", `${marker}\n1 field`);
    ops.failClose = true;
    await assert.rejects(closeMarkedIssue(ops, marker, "Back in sync."), /503/);
    ops.failClose = false;
    assert.equal(await closeMarkedIssue(ops, marker, "Back in sync."), true);
    assert.deepEqual(ops.issues[0]?.comments, ["Back in sync."]);
    assert.equal(ops.issues[0]?.open, false);
  });
});
