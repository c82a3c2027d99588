import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { githubPayload, mergedPullRequest, pushEvent, zeroSha } from "../../../test/support/webhooks.js";
import { MalformedPayloadError, parseGitHubWebhook } from "./parse-github-webhook.js";

const mergeSha = "7f3e9a1b2c3d4e5f60718293a4b5c6d7e8f90a1b";
const headSha = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d";
const pushedSha = "c0ffee0000000000000000000000000000000001";

const merged = () => mergedPullRequest({ repo: "acme/shop", number: 42, base: "main", headSha, mergeCommitSha: mergeSha, mergedBy: "octo-merger", author: "octo-author", installationId: 7 });
const push = (ref: string, after = pushedSha) => pushEvent({ repo: "acme/shop", ref, before: "b".repeat(40), after, pusher: "octo-pusher", installationId: 7 });

/** Asserts `fn` throws a MalformedPayloadError whose message names `field`. */
function assertMalformed(fn: () => unknown, field: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof MalformedPayloadError, `expected MalformedPayloadError, got ${String(error)}`);
    assert.match(error.message, field);
    return true;
  });
}

describe("parseGitHubWebhook: pull_request", () => {
  it("turns a merged pull request into a deploy of the base branch at the merge commit", () => {
    assert.deepEqual(parseGitHubWebhook("pull_request", "delivery-1", merged()), {
      kind: "deploy",
      request: {
        repo: { forge: "github", fullName: "acme/shop", installationId: 7 },
        branch: "main",
        sha: mergeSha,
        actor: "octo-merger",
        deliveryId: "delivery-1",
        change: 42,
      },
    });
  });

  it("names the sender as actor when merged_by is absent", () => {
    const payload = merged();
    payload.pull_request.merged_by = null;
    payload.sender.login = "octo-sender";
    const intent = parseGitHubWebhook("pull_request", "d", payload);
    assert.equal(intent.kind === "deploy" && intent.request.actor, "octo-sender");
  });

  it("ignores a pull request closed without merging", () => {
    const payload = githubPayload("pull_request", "closed");
    assert.equal(payload.pull_request.merged, false);
    assert.deepEqual(parseGitHubWebhook("pull_request", "d", payload), { kind: "ignore", reason: "pull request closed without merging" });
  });

  it("ignores other pull request actions, saying which", () => {
    assert.deepEqual(parseGitHubWebhook("pull_request", "d", githubPayload("pull_request", "opened")), {
      kind: "ignore",
      reason: "Ferry does not act on pull_request.opened",
    });
  });

  it("refuses a merged pull request without a merge commit sha", () => {
    const payload = merged();
    payload.pull_request.merge_commit_sha = null;
    assertMalformed(() => parseGitHubWebhook("pull_request", "d", payload), /pull_request\.merge_commit_sha/);
  });

  it("refuses a closed pull request payload missing fields, naming the field", () => {
    const noBase = merged() as unknown as { pull_request: Record<string, unknown> };
    delete noBase.pull_request["base"];
    assertMalformed(() => parseGitHubWebhook("pull_request", "d", noBase), /^pull_request\.closed payload: pull_request\.base: /);

    const noRepo = merged() as unknown as { repository: Record<string, unknown> };
    delete noRepo.repository["full_name"];
    assertMalformed(() => parseGitHubWebhook("pull_request", "d", noRepo), /^pull_request\.closed payload: repository\.full_name: /);

    const noSender = merged() as unknown as Record<string, unknown>;
    delete noSender["sender"];
    assertMalformed(() => parseGitHubWebhook("pull_request", "d", noSender), /^pull_request\.closed payload: sender: /);
  });
});

describe("parseGitHubWebhook: push", () => {
  it("turns a push to a branch into a deploy of that branch at the pushed commit", () => {
    assert.deepEqual(parseGitHubWebhook("push", "delivery-2", push("main")), {
      kind: "deploy",
      request: {
        repo: { forge: "github", fullName: "acme/shop", installationId: 7 },
        branch: "main",
        sha: pushedSha,
        actor: "octo-pusher",
        deliveryId: "delivery-2",
      },
    });
  });

  it("keeps slashes in branch names", () => {
    const intent = parseGitHubWebhook("push", "d", push("refs/heads/release/v2"));
    assert.equal(intent.kind === "deploy" && intent.request.branch, "release/v2");
  });

  it("ignores a tag push", () => {
    assert.deepEqual(parseGitHubWebhook("push", "d", push("refs/tags/v1.0.0")), { kind: "ignore", reason: "push to refs/tags/v1.0.0 is not a branch" });
  });

  it("ignores a branch deletion", () => {
    const payload = push("main", zeroSha);
    assert.equal(payload.deleted, true);
    assert.deepEqual(parseGitHubWebhook("push", "d", payload), { kind: "ignore", reason: "branch deleted" });
    // The all-zero sha alone is enough, even without `deleted`.
    const bare = push("main", zeroSha) as unknown as Record<string, unknown>;
    delete bare["deleted"];
    assert.deepEqual(parseGitHubWebhook("push", "d", bare), { kind: "ignore", reason: "branch deleted" });
  });

  it("refuses a push payload missing fields, naming the field", () => {
    const noAfter = push("main") as unknown as Record<string, unknown>;
    delete noAfter["after"];
    assertMalformed(() => parseGitHubWebhook("push", "d", noAfter), /^push payload: after: /);

    const noRef = push("main") as unknown as Record<string, unknown>;
    delete noRef["ref"];
    assertMalformed(() => parseGitHubWebhook("push", "d", noRef), /^push payload: ref: /);

    assertMalformed(() => parseGitHubWebhook("push", "d", null), /^push payload: \(top level\): /);
  });
});

describe("parseGitHubWebhook: other events", () => {
  it("ignores events Ferry does not act on, with the reason", () => {
    assert.deepEqual(parseGitHubWebhook("issue_comment", "d", githubPayload("issue_comment", "created")), {
      kind: "ignore",
      reason: "Ferry does not act on issue_comment.created",
    });
    assert.deepEqual(parseGitHubWebhook("ping", "d", githubPayload("ping")), { kind: "ignore", reason: "Ferry does not act on ping" });
  });
});
