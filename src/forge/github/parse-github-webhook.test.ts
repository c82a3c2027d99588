import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assertMalformed } from "../../../test/support/assert-malformed.js";
import { checkRunRerequested, checkSuiteRerequested } from "../../../test/support/check-webhooks.js";
import {
  githubPayload,
  issueCommentEvent,
  mergedPullRequest,
  pullRequestEvent,
  pushEvent,
  zeroSha,
  type PullRequestPlanAction,
} from "../../../test/support/webhooks.js";
import { parseGitHubWebhook } from "./parse-github-webhook.js";

const mergeSha = "7f3e9a1b2c3d4e5f60718293a4b5c6d7e8f90a1b";
const headSha = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d";
const pushedSha = "c0ffee0000000000000000000000000000000001";

const merged = () =>
  mergedPullRequest({
    repo: "acme/shop",
    number: 42,
    base: "main",
    headSha,
    mergeCommitSha: mergeSha,
    mergedBy: "octo-merger",
    author: "octo-author",
    installationId: 7,
  });
const updated = (action: PullRequestPlanAction, fromFork = false) =>
  pullRequestEvent({
    repo: "acme/shop",
    action,
    number: 42,
    headSha,
    base: "main",
    fromFork,
    author: "octo-author",
    sender: "octo-pusher",
    installationId: 7,
  });
const comment = (body: string, user = "octo-reviewer", userType: "User" | "Bot" = "User") =>
  issueCommentEvent({ repo: "acme/shop", number: 42, body, user, userType, commentId: 9001, installationId: 7 });
const push = (ref: string, after = pushedSha) =>
  pushEvent({ repo: "acme/shop", ref, before: "b".repeat(40), after, pusher: "octo-pusher", installationId: 7 });

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
    assert.deepEqual(parseGitHubWebhook("pull_request", "d", payload), {
      kind: "ignore",
      reason: "pull request closed without merging",
    });
  });

  it("ignores other pull request actions, saying which", () => {
    assert.deepEqual(parseGitHubWebhook("pull_request", "d", githubPayload("pull_request", "labeled")), {
      kind: "ignore",
      reason: "Ferry does not act on pull_request.labeled",
    });
    assert.deepEqual(parseGitHubWebhook("pull_request", "d", githubPayload("pull_request", "ready_for_review")), {
      kind: "ignore",
      reason: "Ferry does not act on pull_request.ready_for_review",
    });
  });

  it("turns an opened pull request into a plan of its head against the base branch", () => {
    assert.deepEqual(parseGitHubWebhook("pull_request", "delivery-3", updated("opened")), {
      kind: "plan",
      request: {
        repo: { forge: "github", fullName: "acme/shop", installationId: 7 },
        change: 42,
        headSha,
        baseBranch: "main",
        actor: "octo-pusher",
        deliveryId: "delivery-3",
        fromFork: false,
      },
    });
  });

  it("plans again on a push to the pull request and on reopening, from GitHub's own examples", () => {
    for (const action of ["synchronize", "reopened"] as const) {
      const intent = parseGitHubWebhook("pull_request", "d", updated(action));
      assert.equal(intent.kind, "plan", action);
      assert.deepEqual(
        intent.kind === "plan" && [intent.request.change, intent.request.headSha, intent.request.fromFork],
        [42, headSha, false],
      );
    }
    // The unedited examples parse too.
    for (const action of ["opened", "synchronize", "reopened"] as const) {
      const example = githubPayload("pull_request", action);
      const intent = parseGitHubWebhook("pull_request", "d", example);
      assert.deepEqual(intent.kind === "plan" && [intent.request.headSha, intent.request.baseBranch], [
        example.pull_request.head.sha,
        example.pull_request.base.ref,
      ]);
    }
  });

  it("marks a pull request from a fork, or from a deleted fork, as fromFork", () => {
    const fork = updated("synchronize", true);
    assert.equal(fork.pull_request.head.repo?.full_name, "fork-owner/shop");
    const intent = parseGitHubWebhook("pull_request", "d", fork);
    assert.equal(intent.kind === "plan" && intent.request.fromFork, true);

    const deleted = updated("opened");
    deleted.pull_request.head.repo = null;
    const orphan = parseGitHubWebhook("pull_request", "d", deleted);
    assert.equal(orphan.kind === "plan" && orphan.request.fromFork, true);
  });

  it("refuses an opened pull request payload missing fields, naming the field", () => {
    const noHeadSha = updated("opened") as unknown as { pull_request: { head: Record<string, unknown> } };
    delete noHeadSha.pull_request.head["sha"];
    assertMalformed(
      () => parseGitHubWebhook("pull_request", "d", noHeadSha),
      /^pull_request\.opened payload: pull_request\.head\.sha: /,
    );

    const noBase = updated("synchronize") as unknown as { pull_request: Record<string, unknown> };
    delete noBase.pull_request["base"];
    assertMalformed(
      () => parseGitHubWebhook("pull_request", "d", noBase),
      /^pull_request\.synchronize payload: pull_request\.base: /,
    );

    const noHeadRepo = updated("reopened") as unknown as { pull_request: { head: Record<string, unknown> } };
    delete noHeadRepo.pull_request.head["repo"];
    assertMalformed(
      () => parseGitHubWebhook("pull_request", "d", noHeadRepo),
      /^pull_request\.reopened payload: pull_request\.head\.repo: /,
    );
  });

  it("refuses a merged pull request without a merge commit sha", () => {
    const payload = merged();
    payload.pull_request.merge_commit_sha = null;
    assertMalformed(() => parseGitHubWebhook("pull_request", "d", payload), /pull_request\.merge_commit_sha/);
  });

  it("refuses a closed pull request payload missing fields, naming the field", () => {
    const noBase = merged() as unknown as { pull_request: Record<string, unknown> };
    delete noBase.pull_request["base"];
    assertMalformed(
      () => parseGitHubWebhook("pull_request", "d", noBase),
      /^pull_request\.closed payload: pull_request\.base: /,
    );

    const noRepo = merged() as unknown as { repository: Record<string, unknown> };
    delete noRepo.repository["full_name"];
    assertMalformed(
      () => parseGitHubWebhook("pull_request", "d", noRepo),
      /^pull_request\.closed payload: repository\.full_name: /,
    );

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
    assert.deepEqual(parseGitHubWebhook("push", "d", push("refs/tags/v1.0.0")), {
      kind: "ignore",
      reason: "push to refs/tags/v1.0.0 is not a branch",
    });
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

describe("parseGitHubWebhook: issue_comment", () => {
  it("turns `/ferry plan` on a pull request into a plan command", () => {
    assert.deepEqual(parseGitHubWebhook("issue_comment", "delivery-4", comment("/ferry plan")), {
      kind: "command",
      request: {
        repo: { forge: "github", fullName: "acme/shop", installationId: 7 },
        change: 42,
        commentId: 9001,
        user: "octo-reviewer",
        command: "plan",
        deliveryId: "delivery-4",
      },
    });
  });

  it("takes the environment from `/ferry plan <env>`, on any line, trimmed", () => {
    for (const body of [
      "/ferry plan staging",
      "  /ferry plan staging  ",
      "Looks good.\r\n/ferry plan staging\r\nthanks",
      "/ferry plan\tstaging",
    ]) {
      const intent = parseGitHubWebhook("issue_comment", "d", comment(body));
      assert.equal(intent.kind === "command" && intent.request.environment, "staging", JSON.stringify(body));
    }
    const first = parseGitHubWebhook("issue_comment", "d", comment("/ferry plan prod\n/ferry plan staging"));
    assert.equal(first.kind === "command" && first.request.environment, "prod");
  });

  it("turns `/ferry continue` and `/ferry abort [env]` into commands", () => {
    assert.deepEqual(
      parseGitHubWebhook("issue_comment", "delivery-5", comment("Canary looks fine.\n/ferry continue")),
      {
        kind: "command",
        request: {
          repo: { forge: "github", fullName: "acme/shop", installationId: 7 },
          change: 42,
          commentId: 9001,
          user: "octo-reviewer",
          command: "continue",
          deliveryId: "delivery-5",
        },
      },
    );
    const abort = parseGitHubWebhook("issue_comment", "d", comment("/ferry abort production\n/ferry continue"));
    assert.deepEqual(abort.kind === "command" && [abort.request.command, abort.request.environment], [
      "abort",
      "production",
    ]);
  });

  it("passes every command on a merged or closed pull request through to the worker", () => {
    // Rollouts are continued and aborted after the merge; the worker answers a plan asked for on a closed change.
    for (const merged of [true, false]) {
      for (const command of ["plan", "continue", "abort"] as const) {
        const payload = comment(`/ferry ${command} staging`);
        payload.issue.state = "closed";
        payload.issue.closed_at = "2024-05-01T12:00:00Z";
        if (merged && payload.issue.pull_request !== undefined)
          payload.issue.pull_request.merged_at = "2024-05-01T12:00:00Z";
        const intent = parseGitHubWebhook("issue_comment", "d", payload);
        assert.deepEqual(
          intent.kind === "command" && [intent.request.command, intent.request.environment, intent.request.change],
          [command, "staging", 42],
          `${command}, merged: ${merged}`,
        );
      }
    }
  });

  it("ignores comments without a command line, saying what they held", () => {
    const reasons: Array<[string, string]> = [
      ["LGTM", "comment holds no /ferry command"],
      ["", "comment holds no /ferry command"],
      ["/Ferry plan", "comment holds no /ferry command"],
      ["please /ferry plan", "comment holds no /ferry plan command"],
      ["> /ferry continue", "comment holds no /ferry continue command"],
      ["`/ferry abort`", "comment holds no /ferry abort command"],
      [
        "/ferry  deploy",
        'comment line "/ferry  deploy" is not a command: /ferry plan|continue|abort|heal|rollback|freeze|unfreeze|deploy [environment]',
      ],
      [
        "/ferry ship",
        'comment line "/ferry ship" is not a command: /ferry plan|continue|abort|heal|rollback|freeze|unfreeze|deploy [environment]',
      ],
      [
        "/ferry planning",
        'comment line "/ferry planning" is not a command: /ferry plan|continue|abort|heal|rollback|freeze|unfreeze|deploy [environment]',
      ],
      [
        "/ferry plan staging prod",
        'comment line "/ferry plan staging prod" is not a command: /ferry plan|continue|abort|heal|rollback|freeze|unfreeze|deploy [environment]',
      ],
    ];
    for (const [body, reason] of reasons) {
      assert.deepEqual(
        parseGitHubWebhook("issue_comment", "d", comment(body)),
        { kind: "ignore", reason },
        JSON.stringify(body),
      );
    }
    // GitHub's own example: a comment on a plain issue.
    assert.deepEqual(parseGitHubWebhook("issue_comment", "d", githubPayload("issue_comment", "created")), {
      kind: "ignore",
      reason: "comment is on an issue, not a pull request",
    });
    const onIssue = issueCommentEvent({
      repo: "acme/shop",
      number: 5,
      body: "/ferry plan",
      user: "octo-reviewer",
      pullRequest: false,
    });
    assert.deepEqual(parseGitHubWebhook("issue_comment", "d", onIssue), {
      kind: "ignore",
      reason: "comment is on an issue, not a pull request",
    });
  });

  it("ignores commands from bots, Ferry's own comments among them", () => {
    for (const body of ["/ferry plan", "/ferry continue", "/ferry abort"]) {
      assert.deepEqual(parseGitHubWebhook("issue_comment", "d", comment(body, "ferry[bot]", "Bot")), {
        kind: "ignore",
        reason: "comment by bot ferry[bot]",
      });
    }
  });

  it("ignores edited and deleted comments", () => {
    for (const action of ["edited", "deleted"] as const) {
      assert.deepEqual(parseGitHubWebhook("issue_comment", "d", githubPayload("issue_comment", action)), {
        kind: "ignore",
        reason: `Ferry does not act on issue_comment.${action}`,
      });
    }
  });

  it("refuses a comment payload missing fields, naming the field", () => {
    const noId = comment("/ferry plan") as unknown as { comment: Record<string, unknown> };
    delete noId.comment["id"];
    assertMalformed(
      () => parseGitHubWebhook("issue_comment", "d", noId),
      /^issue_comment\.created payload: comment\.id: /,
    );

    const noUser = comment("/ferry plan") as unknown as { comment: { user: Record<string, unknown> } };
    delete noUser.comment.user["type"];
    assertMalformed(
      () => parseGitHubWebhook("issue_comment", "d", noUser),
      /^issue_comment\.created payload: comment\.user\.type: /,
    );

    const noIssue = comment("/ferry plan") as unknown as Record<string, unknown>;
    delete noIssue["issue"];
    assertMalformed(
      () => parseGitHubWebhook("issue_comment", "d", noIssue),
      /^issue_comment\.created payload: issue: /,
    );
  });
});

describe("parseGitHubWebhook: other events", () => {
  it("ignores events Ferry does not act on, with the reason", () => {
    assert.deepEqual(parseGitHubWebhook("issues", "d", githubPayload("issues", "opened")), {
      kind: "ignore",
      reason: "Ferry does not act on issues.opened",
    });
    assert.deepEqual(parseGitHubWebhook("ping", "d", githubPayload("ping")), {
      kind: "ignore",
      reason: "Ferry does not act on ping",
    });
  });
});

describe("parseGitHubWebhook: check_run.rerequested and check_suite.rerequested", () => {
  const prs = [{ number: 42, headRef: "feature", baseRef: "main" }];
  const run = (name: string, pullRequests = prs) =>
    checkRunRerequested(
      {
        id: 77,
        name,
        head_sha: headSha,
        status: "completed",
        conclusion: "failure",
        external_id: "d0",
        details_url: null,
        started_at: "",
        completed_at: null,
        output: { title: null, summary: null, text: null },
        annotations: [],
        app: "ferry",
        suiteId: 9,
        history: [],
        annotationRequests: 0,
      },
      { repo: "acme/shop", repoId: 5, sender: "octo-rerunner", pullRequests, installationId: 7 },
    );

  it("Re-run on ferry/plan/<env> re-plans that environment of the pull request the run lists, as a re-run", () => {
    assert.deepEqual(parseGitHubWebhook("check_run", "d-rerun", run("ferry/plan/staging")), {
      kind: "plan",
      request: {
        repo: { forge: "github", fullName: "acme/shop", installationId: 7 },
        change: 42,
        headSha,
        baseBranch: "main",
        actor: "octo-rerunner",
        deliveryId: "d-rerun",
        fromFork: false,
        environment: "staging",
        rerun: "d-rerun",
      },
    });
  });

  it("Re-run on ferry/plan (a config that could not be read) re-plans every environment", () => {
    const intent = parseGitHubWebhook("check_run", "d", run("ferry/plan"));
    assert.equal(intent.kind, "plan");
    assert.equal(intent.kind === "plan" ? intent.request.environment : "x", undefined);
  });

  it("ignores another app's check, and a run listing no pull request (a fork's head, or a branch without one)", () => {
    assert.deepEqual(parseGitHubWebhook("check_run", "d", run("lint")), {
      kind: "ignore",
      reason: "check run lint is not a Ferry plan",
    });
    assert.deepEqual(parseGitHubWebhook("check_run", "d", run("ferry/plan/staging", [])), {
      kind: "ignore",
      reason: "the check's commit is the head of no pull request in this repository",
    });
  });

  it("reads GitHub's own examples as they are", () => {
    // The check_run example is another app's run ("randscape") on no pull request.
    assert.equal(parseGitHubWebhook("check_run", "d", githubPayload("check_run", "rerequested")).kind, "ignore");
    assert.deepEqual(parseGitHubWebhook("check_suite", "d", githubPayload("check_suite", "rerequested")), {
      kind: "plan",
      request: {
        repo: { forge: "github", fullName: "Codertocat/Hello-World", installationId: 957387 },
        change: 2,
        headSha: "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
        baseBranch: "master",
        actor: "octocoders-linter[bot]",
        deliveryId: "d",
        fromFork: false,
        rerun: "d",
      },
    });
  });

  it("Re-run all checks re-plans every environment; a malformed payload says which field", () => {
    const suite = checkSuiteRerequested(headSha, 9, {
      repo: "acme/shop",
      repoId: 5,
      sender: "octo-rerunner",
      pullRequests: prs,
    });
    const intent = parseGitHubWebhook("check_suite", "d2", suite);
    assert.equal(intent.kind, "plan");
    assert.equal(intent.kind === "plan" ? intent.request.change : 0, 42);
    const broken = structuredClone(suite) as unknown as { check_suite: Record<string, unknown> };
    delete broken.check_suite["head_sha"];
    assertMalformed(
      () => parseGitHubWebhook("check_suite", "d", broken),
      /^check_suite\.rerequested payload: check_suite\.head_sha: /,
    );
  });
});
