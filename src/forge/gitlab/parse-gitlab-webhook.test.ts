import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assertMalformed } from "../../../test/support/assert-malformed.js";
import {
  gitlabFixture,
  gitlabFixtureFiles,
  gitlabMergeRequestEvent,
  gitlabNoteEvent,
  gitlabPushEvent,
  zeroSha,
  type MergeRequestAction,
} from "../../../test/support/gitlab-webhooks.js";
import { gitlabProjectPath, parseGitLabWebhook } from "./parse-gitlab-webhook.js";

const project = { id: 42, path: "acme/platform/shop" };
const repo = { forge: "gitlab", fullName: "acme/platform/shop", projectId: 42 } as const;
const headSha = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d";
const mergeSha = "7f3e9a1b2c3d4e5f60718293a4b5c6d7e8f90a1b";

const mr = (action: MergeRequestAction, extra: { oldrev?: string; mergeCommitSha?: string; fromFork?: boolean } = {}) =>
  gitlabMergeRequestEvent({
    project,
    iid: 9,
    action,
    sourceBranch: "feature/x",
    targetBranch: "main",
    lastCommitSha: headSha,
    user: "dev",
    ...extra,
  });
const note = (body: string, user = "reviewer") => gitlabNoteEvent({ project, iid: 9, body, user, noteId: 777 });

describe("parseGitLabWebhook: Merge Request Hook", () => {
  it("plans GitLab's own example of an opened merge request at its last commit", () => {
    assert.deepEqual(
      parseGitLabWebhook("Merge Request Hook", "uuid-1", gitlabFixture(gitlabFixtureFiles.mergeRequest)),
      {
        kind: "plan",
        request: {
          repo: { forge: "gitlab", fullName: "gitlabhq/gitlab-test", projectId: 1 },
          change: 1,
          headSha: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
          baseBranch: "master",
          actor: "root",
          deliveryId: "uuid-1",
          fromFork: false,
        },
      },
    );
    const goExample = parseGitLabWebhook(
      "Merge Request Hook",
      "uuid-2",
      gitlabFixture(gitlabFixtureFiles.goMergeRequest),
    );
    assert.equal(goExample.kind === "plan" && goExample.request.actor, "user1");
  });

  it("plans an opened or reopened merge request, and an update that pushed commits", () => {
    for (const [action, extra] of [
      ["open", {}],
      ["reopen", {}],
      ["update", { oldrev: "b".repeat(40) }],
    ] as const) {
      assert.deepEqual(
        parseGitLabWebhook("Merge Request Hook", "d", mr(action, extra)),
        {
          kind: "plan",
          request: { repo, change: 9, headSha, baseBranch: "main", actor: "dev", deliveryId: "d", fromFork: false },
        },
        action,
      );
    }
  });

  it("ignores an update without new commits (a title, label or approval change)", () => {
    assert.deepEqual(parseGitLabWebhook("Merge Request Hook", "d", mr("update")), {
      kind: "ignore",
      reason: "merge request updated without new commits",
    });
  });

  it("marks a merge request from a fork, or from a deleted fork", () => {
    const fork = parseGitLabWebhook("Merge Request Hook", "d", mr("open", { fromFork: true }));
    assert.equal(fork.kind === "plan" && fork.request.fromFork, true);
    const deleted = mr("open");
    (deleted["object_attributes"] as Record<string, unknown>)["source_project_id"] = null;
    const intent = parseGitLabWebhook("Merge Request Hook", "d", deleted);
    assert.equal(intent.kind === "plan" && intent.request.fromFork, true);
  });

  it("deploys the target branch at the merge commit of a merged merge request", () => {
    assert.deepEqual(parseGitLabWebhook("Merge Request Hook", "d", mr("merge", { mergeCommitSha: mergeSha })), {
      kind: "deploy",
      request: { repo, branch: "main", sha: mergeSha, actor: "dev", deliveryId: "d", change: 9 },
    });
  });

  it("deploys the head of a fast-forward merge, which has no merge commit, and the squash commit of a squashed one", () => {
    const fastForward = parseGitLabWebhook("Merge Request Hook", "d", mr("merge"));
    assert.equal(fastForward.kind === "deploy" && fastForward.request.sha, headSha);
    const squashed = mr("merge");
    (squashed["object_attributes"] as Record<string, unknown>)["squash_commit_sha"] = "c".repeat(40);
    const intent = parseGitLabWebhook("Merge Request Hook", "d", squashed);
    assert.equal(intent.kind === "deploy" && intent.request.sha, "c".repeat(40));
  });

  it("ignores other actions, saying which", () => {
    assert.deepEqual(parseGitLabWebhook("Merge Request Hook", "d", mr("close")), {
      kind: "ignore",
      reason: "Ferry does not act on Merge Request Hook.close",
    });
    const approved = mr("open");
    (approved["object_attributes"] as Record<string, unknown>)["action"] = "approved";
    assert.deepEqual(parseGitLabWebhook("Merge Request Hook", "d", approved), {
      kind: "ignore",
      reason: "Ferry does not act on Merge Request Hook.approved",
    });
  });

  it("refuses a merge request payload without the fields Ferry needs", () => {
    const noCommit = mr("open");
    delete (noCommit["object_attributes"] as Record<string, unknown>)["last_commit"];
    assertMalformed(
      () => parseGitLabWebhook("Merge Request Hook", "d", noCommit),
      /^Merge Request Hook\.open payload: object_attributes\.last_commit/,
    );
    const noProject = mr("merge", { mergeCommitSha: mergeSha });
    delete noProject["project"];
    assertMalformed(
      () => parseGitLabWebhook("Merge Request Hook", "d", noProject),
      /Merge Request Hook\.merge payload: project/,
    );
  });
});

describe("parseGitLabWebhook: Push Hook", () => {
  it("deploys the pushed branch of GitLab's own example at the pushed commit", () => {
    assert.deepEqual(parseGitLabWebhook("Push Hook", "uuid-3", gitlabFixture(gitlabFixtureFiles.push)), {
      kind: "deploy",
      request: {
        repo: { forge: "gitlab", fullName: "mike/diaspora", projectId: 15 },
        branch: "master",
        sha: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
        actor: "jsmith",
        deliveryId: "uuid-3",
      },
    });
    assert.equal(parseGitLabWebhook("Push Hook", "d", gitlabFixture(gitlabFixtureFiles.goPush)).kind, "deploy");
  });

  it("deploys a push built for a project, with a branch name holding slashes", () => {
    const payload = gitlabPushEvent({
      project,
      ref: "release/2024",
      before: "a".repeat(40),
      after: mergeSha,
      user: "pusher",
    });
    assert.deepEqual(parseGitLabWebhook("Push Hook", "d", payload), {
      kind: "deploy",
      request: { repo, branch: "release/2024", sha: mergeSha, actor: "pusher", deliveryId: "d" },
    });
  });

  it("ignores a deleted branch and a pushed tag", () => {
    assert.deepEqual(
      parseGitLabWebhook(
        "Push Hook",
        "d",
        gitlabPushEvent({ project, ref: "main", before: mergeSha, after: zeroSha, user: "pusher" }),
      ),
      {
        kind: "ignore",
        reason: "branch deleted",
      },
    );
    const tag = gitlabFixture(gitlabFixtureFiles.tagPush);
    assert.deepEqual(parseGitLabWebhook("Tag Push Hook", "d", tag), {
      kind: "ignore",
      reason: "Ferry does not act on Tag Push Hook",
    });
    assert.deepEqual(parseGitLabWebhook("Push Hook", "d", tag), {
      kind: "ignore",
      reason: "push to refs/tags/v1.0.0 is not a branch",
    });
  });

  it("refuses a push without the pushed commit", () => {
    const payload = gitlabPushEvent({ project, ref: "main", before: "a".repeat(40), after: mergeSha, user: "pusher" });
    delete payload["after"];
    assertMalformed(() => parseGitLabWebhook("Push Hook", "d", payload), /^Push Hook payload: after/);
  });
});

describe("parseGitLabWebhook: Note Hook", () => {
  it("ignores GitLab's own example note, which holds no command", () => {
    assert.deepEqual(parseGitLabWebhook("Note Hook", "d", gitlabFixture(gitlabFixtureFiles.mergeRequestNote)), {
      kind: "ignore",
      reason: "note holds no /ferry command",
    });
  });

  it("turns /ferry plan in GitLab's example note into a command on its merge request", () => {
    const payload = gitlabFixture(gitlabFixtureFiles.mergeRequestNote);
    (payload["object_attributes"] as Record<string, unknown>)["note"] = "Looks good.\n/ferry plan staging";
    assert.deepEqual(parseGitLabWebhook("Note Hook", "uuid-4", payload), {
      kind: "command",
      request: {
        repo: { forge: "gitlab", fullName: "gitlab-org/gitlab-test", projectId: 5 },
        change: 1,
        commentId: 1244,
        user: "root",
        command: "plan",
        environment: "staging",
        deliveryId: "uuid-4",
      },
    });
  });

  it("reads the older note payload without an action as a new note", () => {
    const payload = gitlabFixture(gitlabFixtureFiles.goMergeRequestNote);
    (payload["object_attributes"] as Record<string, unknown>)["note"] = "/ferry plan";
    const intent = parseGitLabWebhook("Note Hook", "d", payload);
    assert.deepEqual(intent.kind === "command" && intent.request, {
      repo: { forge: "gitlab", fullName: "gitlab-org/gitlab-test", projectId: 5 },
      change: 1,
      commentId: 1244,
      user: "root",
      command: "plan",
      deliveryId: "d",
    });
  });

  it("builds a command from a note built for a project", () => {
    assert.deepEqual(parseGitLabWebhook("Note Hook", "d", note("/ferry plan")), {
      kind: "command",
      request: { repo, change: 9, commentId: 777, user: "reviewer", command: "plan", deliveryId: "d" },
    });
  });

  it("turns /ferry continue and /ferry abort [env] into commands", () => {
    assert.deepEqual(parseGitLabWebhook("Note Hook", "d", note("Canary looks fine.\n/ferry continue")), {
      kind: "command",
      request: { repo, change: 9, commentId: 777, user: "reviewer", command: "continue", deliveryId: "d" },
    });
    assert.deepEqual(parseGitLabWebhook("Note Hook", "d", note("/ferry abort production")), {
      kind: "command",
      request: {
        repo,
        change: 9,
        commentId: 777,
        user: "reviewer",
        command: "abort",
        environment: "production",
        deliveryId: "d",
      },
    });
  });

  it("passes every command on a merged or closed merge request through to the worker, from GitLab's example notes", () => {
    // Rollouts are continued and aborted after the merge; the worker answers a plan asked for on a closed change.
    for (const file of [gitlabFixtureFiles.mergeRequestNote, gitlabFixtureFiles.goMergeRequestNote]) {
      for (const state of ["merged", "closed"]) {
        for (const command of ["plan", "continue", "abort"] as const) {
          const payload = gitlabFixture(file);
          (payload["object_attributes"] as Record<string, unknown>)["note"] = `/ferry ${command} staging`;
          (payload["merge_request"] as Record<string, unknown>)["state"] = state;
          const intent = parseGitLabWebhook("Note Hook", "d", payload);
          assert.deepEqual(
            intent.kind === "command" && [intent.request.command, intent.request.environment, intent.request.change],
            [command, "staging", 1],
            `${file} ${state} ${command}`,
          );
        }
      }
    }
  });

  it("ignores notes without a command line, saying what they held", () => {
    const reasons: Array<[string, string]> = [
      ["could someone run /ferry abort please", "note holds no /ferry abort command"],
      [
        "/ferry ship",
        'note line "/ferry ship" is not a command: /ferry plan|continue|abort|heal|rollback|freeze|unfreeze|deploy [environment]',
      ],
      [
        "/ferry continue staging prod",
        'note line "/ferry continue staging prod" is not a command: /ferry plan|continue|abort|heal|rollback|freeze|unfreeze|deploy [environment]',
      ],
    ];
    for (const [body, reason] of reasons)
      assert.deepEqual(parseGitLabWebhook("Note Hook", "d", note(body)), { kind: "ignore", reason }, body);
  });

  it("ignores notes on commits, edited notes and system notes", () => {
    const onCommit = gitlabFixture(gitlabFixtureFiles.commitNote);
    (onCommit["object_attributes"] as Record<string, unknown>)["note"] = "/ferry plan";
    assert.deepEqual(parseGitLabWebhook("Note Hook", "d", onCommit), {
      kind: "ignore",
      reason: "note is on a Commit, not a merge request",
    });
    const edited = note("/ferry plan");
    (edited["object_attributes"] as Record<string, unknown>)["action"] = "update";
    assert.deepEqual(parseGitLabWebhook("Note Hook", "d", edited), { kind: "ignore", reason: "note updated, not new" });
    const system = note("/ferry plan");
    (system["object_attributes"] as Record<string, unknown>)["system"] = true;
    assert.deepEqual(parseGitLabWebhook("Note Hook", "d", system), { kind: "ignore", reason: "system note" });
  });

  it("never answers Ferry's own notes: by the bot's username, and by Ferry's markers", () => {
    assert.deepEqual(
      parseGitLabWebhook("Note Hook", "d", note("/ferry plan", "Ferry-Bot"), { botUsername: "ferry-bot" }),
      { kind: "ignore", reason: "note by Ferry (Ferry-Bot)" },
    );
    assert.deepEqual(
      parseGitLabWebhook(
        "Note Hook",
        "d",
        note("<!-- ferry:plan -->\nrun `/ferry plan` to refresh", "project_42_bot_1f2e"),
      ),
      { kind: "ignore", reason: "note written by Ferry" },
    );
  });

  it("refuses a merge request note without its merge request", () => {
    const payload = note("/ferry plan");
    delete payload["merge_request"];
    assertMalformed(() => parseGitLabWebhook("Note Hook", "d", payload), /^Note Hook payload: merge_request/);
  });
});

describe("parseGitLabWebhook: other events", () => {
  it("ignores events Ferry does not use, saying which", () => {
    assert.deepEqual(parseGitLabWebhook("Pipeline Hook", "d", {}), {
      kind: "ignore",
      reason: "Ferry does not act on Pipeline Hook",
    });
  });

  it("reads the project path a payload names, for choosing the webhook secret", () => {
    assert.equal(gitlabProjectPath(gitlabFixture(gitlabFixtureFiles.push)), "mike/diaspora");
    assert.equal(gitlabProjectPath(note("hi")), "acme/platform/shop");
    assert.equal(gitlabProjectPath({ project: {} }), undefined);
    assert.equal(gitlabProjectPath("not an object"), undefined);
  });
});
