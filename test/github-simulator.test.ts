import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { verify } from "@octokit/webhooks-methods";
import express from "express";
import { createProbot, ProbotOctokit } from "probot";
import { GitRepo } from "./support/git-repo.js";
import { defaultInstallationPermissions, GitHubSimulator } from "./support/github-simulator.js";
import {
  githubPayload,
  issueCommentEvent,
  mergedPullRequest,
  pullRequestEvent,
  pushEvent,
  sendGitHubWebhook,
  zeroSha,
} from "./support/webhooks.js";

const fullName = "acme/deploy";
const owner = "acme";
const repo = "deploy";

/** Reads the regular files of a (ustar/pax) tarball: path → contents. */
function untar(tar: Buffer): Map<string, string> {
  const files = new Map<string, string>();
  let offset = 0;
  let paxPath: string | undefined;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, length: number): string =>
      header
        .subarray(start, start + length)
        .toString("utf8")
        .replace(/\0.*$/s, "");
    const size = Number.parseInt(field(124, 12).trim() || "0", 8);
    const type = field(156, 1);
    const prefix = field(345, 155);
    const body = tar.subarray(offset + 512, offset + 512 + size);
    const name = paxPath ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    if (type === "x") {
      paxPath = /\d+ path=(.*)\n/.exec(body.toString("utf8"))?.[1];
    } else {
      if (type === "0" || type === "") files.set(name, body.toString("utf8"));
      paxPath = undefined;
    }
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

/** Status of a rejected Octokit request. */
async function rejectionStatus(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
  } catch (error) {
    if (typeof error === "object" && error !== null && "status" in error && typeof error.status === "number")
      return error.status;
    throw error;
  }
  assert.fail("expected the request to fail");
}

describe("GitHubSimulator through Probot's Octokit", () => {
  let sim: GitHubSimulator;
  let git: GitRepo;
  let mainSha: string;
  let featureSha: string;
  let octokit: InstanceType<typeof ProbotOctokit>;

  before(async () => {
    git = await GitRepo.create("deploy");
    await git.writeFiles({ "envs/prod/app.yaml": "kind: ConfigMap\n", "README.md": "hello\n" });
    mainSha = await git.commit("initial");
    await git.branch("feature/x");
    await git.checkout("feature/x");
    await git.writeFiles({ "envs/prod/app.yaml": "kind: Secret\n", "README.md": null });
    featureSha = await git.commit("change");
    await git.checkout("main");
    sim = await GitHubSimulator.start();
    sim.addRepo(fullName, git);
    octokit = new ProbotOctokit({
      auth: { appId: sim.appId, privateKey: sim.privateKeyPem, installationId: 1 },
      baseUrl: sim.apiUrl,
      throttle: { enabled: false },
      retry: { retryAfterBaseValue: 10 },
    });
  });

  after(async () => {
    await sim.close();
    await git.dispose();
  });

  test("authenticates the app by JWT and the installation by token", async () => {
    const appOctokit = new ProbotOctokit({
      auth: { appId: sim.appId, privateKey: sim.privateKeyPem },
      baseUrl: sim.apiUrl,
      throttle: { enabled: false },
    });
    const { data: app } = await appOctokit.rest.apps.getAuthenticated();
    assert.equal(app?.id, sim.appId);
    const { data: installation } = await appOctokit.rest.apps.getRepoInstallation({ owner, repo });
    assert.equal(installation.id, 1);

    const { privateKey: otherKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const forged = new ProbotOctokit({
      auth: { appId: sim.appId, privateKey: otherKey.export({ type: "pkcs1", format: "pem" }).toString() },
      baseUrl: sim.apiUrl,
      throttle: { enabled: false },
    });
    assert.equal(await rejectionStatus(forged.rest.apps.getAuthenticated()), 401);

    const anonymous = await fetch(`${sim.apiUrl}/repos/${fullName}/branches/main`);
    assert.equal(anonymous.status, 401);
    assert.equal(((await anonymous.json()) as { message: string }).message, "Bad credentials");
    const badToken = await fetch(`${sim.apiUrl}/repos/${fullName}/branches/main`, {
      headers: { authorization: "token ghs_nope" },
    });
    assert.equal(badToken.status, 401);
  });

  test("Probot built from GHE_HOST/GHE_PROTOCOL reaches the simulator", async () => {
    const probot = createProbot({
      env: {
        APP_ID: String(sim.appId),
        PRIVATE_KEY: sim.privateKeyPem,
        WEBHOOK_SECRET: "secret",
        GHE_HOST: sim.host,
        GHE_PROTOCOL: "http",
        LOG_LEVEL: "warn",
      },
    });
    const installationOctokit = await probot.auth(1);
    const { data } = await installationOctokit.rest.git.getRef({ owner, repo, ref: "heads/main" });
    assert.equal(data.object.sha, mainSha);
  });

  test("reads refs and branches, including names with slashes", async () => {
    const { data: ref } = await octokit.rest.git.getRef({ owner, repo, ref: "heads/main" });
    assert.deepEqual([ref.ref, ref.object.sha, ref.object.type], ["refs/heads/main", mainSha, "commit"]);
    const { data: feature } = await octokit.rest.git.getRef({ owner, repo, ref: "heads/feature/x" });
    assert.equal(feature.object.sha, featureSha);
    const { data: branch } = await octokit.rest.repos.getBranch({ owner, repo, branch: "feature/x" });
    assert.deepEqual([branch.name, branch.commit.sha], ["feature/x", featureSha]);
    assert.equal(await rejectionStatus(octokit.rest.git.getRef({ owner, repo, ref: "heads/nope" })), 404);
  });

  test("downloads a gzip tarball of the ref with GitHub's prefix", async () => {
    const { data, status } = await octokit.rest.repos.downloadTarballArchive({ owner, repo, ref: "feature/x" });
    assert.equal(status, 200);
    assert.ok(data instanceof ArrayBuffer);
    const bytes = Buffer.from(data);
    assert.deepEqual([bytes[0], bytes[1]], [0x1f, 0x8b]);
    const files = untar(gunzipSync(bytes));
    const prefix = `acme-deploy-${featureSha.slice(0, 7)}`;
    assert.equal(files.get(`${prefix}/envs/prod/app.yaml`), "kind: Secret\n");
    assert.equal(files.has(`${prefix}/README.md`), false);

    const bySha = await octokit.rest.repos.downloadTarballArchive({ owner, repo, ref: mainSha });
    assert.ok(bySha.data instanceof ArrayBuffer);
    const mainFiles = untar(gunzipSync(Buffer.from(bySha.data)));
    assert.equal(mainFiles.get(`acme-deploy-${mainSha.slice(0, 7)}/README.md`), "hello\n");

    assert.equal(
      await rejectionStatus(octokit.rest.repos.downloadTarballArchive({ owner, repo, ref: "no-such-ref" })),
      404,
    );
  });

  test("records commit statuses and validates them like GitHub", async () => {
    await octokit.rest.repos.createCommitStatus({
      owner,
      repo,
      sha: mainSha,
      state: "pending",
      context: "ferry/plan",
      description: "Planning",
    });
    const { data: created } = await octokit.rest.repos.createCommitStatus({
      owner,
      repo,
      sha: mainSha,
      state: "success",
      context: "ferry/plan",
      description: "No changes",
      target_url: "http://ferry.example/plans/1",
    });
    assert.equal(created.state, "success");
    assert.equal(created.creator?.login, "ferry[bot]");

    const tooLong = "x".repeat(141);
    const invalid = octokit.rest.repos.createCommitStatus({
      owner,
      repo,
      sha: mainSha,
      state: "success",
      description: tooLong,
    });
    assert.equal(await rejectionStatus(invalid), 422);
    // A route typed as plain string lets the request carry a state the typed endpoint would reject.
    const untypedRoute: string = "POST /repos/{owner}/{repo}/statuses/{sha}";
    const badState = octokit.request(untypedRoute, { owner, repo, sha: mainSha, state: "done" });
    assert.equal(await rejectionStatus(badState), 422);

    assert.deepEqual(
      sim.statuses(fullName, mainSha).map((s) => [s.context, s.state, s.description, s.target_url]),
      [
        ["ferry/plan", "pending", "Planning", null],
        ["ferry/plan", "success", "No changes", "http://ferry.example/plans/1"],
      ],
    );
    const { data: combined } = await octokit.rest.repos.getCombinedStatusForRef({ owner, repo, ref: "main" });
    assert.equal(combined.state, "success");
    assert.equal(combined.total_count, 1);
    const { data: listed } = await octokit.rest.repos.listCommitStatusesForRef({ owner, repo, ref: mainSha });
    assert.deepEqual(
      listed.map((s) => s.state),
      ["success", "pending"],
    );
  });

  test("creates and updates check runs as GitHub documents them, refusing what GitHub refuses", async () => {
    const annotation = (line: number) => ({
      path: "envs/prod/app.yaml",
      start_line: line,
      end_line: line,
      annotation_level: "failure" as const,
      message: `line ${line}`,
    });
    const { data: created } = await octokit.rest.checks.create({
      owner,
      repo,
      name: "ferry/plan/staging",
      head_sha: mainSha,
      status: "in_progress",
      external_id: "d1",
      output: { title: "planning", summary: "…", annotations: [annotation(1)] },
    });
    assert.equal(created.status, "in_progress");
    assert.equal(created.app?.slug, "ferry");
    const { data: updated } = await octokit.rest.checks.update({
      owner,
      repo,
      check_run_id: created.id,
      conclusion: "neutral",
      output: { title: "no changes", summary: "table", annotations: [annotation(2)] },
    });
    assert.deepEqual(
      [updated.status, updated.conclusion, updated.output.annotations_count],
      ["completed", "neutral", 2],
    );
    const { data: listed } = await octokit.rest.checks.listForRef({
      owner,
      repo,
      ref: mainSha,
      check_name: "ferry/plan/staging",
    });
    assert.deepEqual(
      listed.check_runs.map((r) => [r.id, r.external_id]),
      [[created.id, "d1"]],
    );

    const refused = async (params: Record<string, unknown>) =>
      rejectionStatus(
        octokit.request("POST /repos/{owner}/{repo}/check-runs", {
          owner,
          repo,
          name: "x",
          head_sha: mainSha,
          ...params,
        }),
      );
    const output = { title: "t", summary: "s" };
    assert.equal(
      await refused({ output: { ...output, annotations: Array.from({ length: 51 }, (_, i) => annotation(i + 1)) } }),
      422,
      "51 annotations",
    );
    assert.equal(await refused({ output: { ...output, summary: "x".repeat(65_536) } }), 422, "summary too long");
    assert.equal(await refused({ output: { ...output, text: "x".repeat(65_536) } }), 422, "text too long");
    assert.equal(await refused({ output: { title: "t" } }), 422, "no summary");
    assert.equal(await refused({ status: "completed" }), 422, "completed without a conclusion");
    assert.equal(await refused({ conclusion: "stale" }), 422, "stale is GitHub's own");
    assert.equal(
      await refused({ output: { ...output, annotations: [{ ...annotation(1), annotation_level: "error" }] } }),
      422,
    );
    assert.equal(await refused({ head_sha: "0".repeat(40) }), 422, "no such commit");
    assert.equal(await refused({ name: undefined }), 422, "no name");
    const atLimits = await octokit.request("POST /repos/{owner}/{repo}/check-runs", {
      owner,
      repo,
      name: "x",
      head_sha: mainSha,
      output: {
        ...output,
        summary: "x".repeat(65_535),
        annotations: Array.from({ length: 50 }, (_, i) => annotation(i + 1)),
      },
    });
    assert.equal(atLimits.status, 201, "50 annotations and 65,535 characters are accepted");
    const { data: noChecks } = await octokit.rest.checks.listForRef({ owner, repo, ref: featureSha });
    assert.equal(noChecks.total_count, 0);
    const granted = { ...defaultInstallationPermissions };
    delete granted["checks"];
    sim.setInstallationPermissions(1, granted);
    try {
      const denied = await octokit.rest.checks
        .create({ owner, repo, name: "x", head_sha: mainSha })
        .catch((e: unknown) => e);
      assert.equal((denied as { status?: number }).status, 403);
      assert.match(
        JSON.stringify((denied as { response?: { data?: unknown } }).response?.data),
        /Resource not accessible by integration/,
      );
    } finally {
      sim.setInstallationPermissions(1, { ...defaultInstallationPermissions });
    }
    assert.equal(
      await rejectionStatus(octokit.rest.checks.update({ owner, repo, check_run_id: 999_999, status: "in_progress" })),
      404,
    );
  });

  test("creates, edits, paginates and reacts to issue comments", async () => {
    sim.addPullRequest(fullName, {
      number: 7,
      headSha: featureSha,
      headRef: "feature/x",
      baseRef: "main",
      user: "alice",
    });
    const ids: number[] = [];
    for (let i = 1; i <= 5; i++) {
      const { data } = await octokit.rest.issues.createComment({ owner, repo, issue_number: 7, body: `comment ${i}` });
      ids.push(data.id);
    }
    const first = ids[0] ?? assert.fail("no comment");
    const { data: updated } = await octokit.rest.issues.updateComment({
      owner,
      repo,
      comment_id: first,
      body: "edited",
    });
    assert.equal(updated.body, "edited");
    const { data: fetched } = await octokit.rest.issues.getComment({ owner, repo, comment_id: first });
    assert.equal(fetched.user?.login, "ferry[bot]");

    const all = await octokit.paginate(octokit.rest.issues.listComments, { owner, repo, issue_number: 7, per_page: 2 });
    assert.deepEqual(
      all.map((c) => c.body),
      ["edited", "comment 2", "comment 3", "comment 4", "comment 5"],
    );
    const pages = sim.requests.filter(
      (r) => r.method === "GET" && r.path === `/api/v3/repos/${fullName}/issues/7/comments`,
    );
    assert.equal(pages.length, 3);

    const { status: reacted } = await octokit.rest.reactions.createForIssueComment({
      owner,
      repo,
      comment_id: first,
      content: "rocket",
    });
    assert.equal(reacted, 201);

    const recorded = sim.comments(fullName, 7);
    assert.deepEqual(
      recorded.map((c) => [c.id, c.body, c.edits]),
      [
        [ids[0], "edited", 1],
        [ids[1], "comment 2", 0],
        [ids[2], "comment 3", 0],
        [ids[3], "comment 4", 0],
        [ids[4], "comment 5", 0],
      ],
    );
    assert.deepEqual(recorded[0]?.reactions, ["rocket"]);

    const huge = octokit.rest.issues.createComment({ owner, repo, issue_number: 7, body: "x".repeat(65537) });
    assert.equal(await rejectionStatus(huge), 422);
    assert.equal(
      await rejectionStatus(octokit.rest.issues.createComment({ owner, repo, issue_number: 99, body: "hi" })),
      404,
    );
  });

  test("answers pull requests and collaborator permissions", async () => {
    sim.addPullRequest(fullName, {
      number: 8,
      headSha: featureSha,
      headRef: "feature/x",
      baseRef: "main",
      mergeCommitSha: mainSha,
      merged: true,
      user: "bob",
    });
    const { data: pr } = await octokit.rest.pulls.get({ owner, repo, pull_number: 8 });
    assert.deepEqual(
      [pr.merged, pr.state, pr.merge_commit_sha, pr.head.ref, pr.base.ref, pr.user.login],
      [true, "closed", mainSha, "feature/x", "main", "bob"],
    );
    const { data: associated } = await octokit.rest.repos.listPullRequestsAssociatedWithCommit({
      owner,
      repo,
      commit_sha: mainSha,
    });
    assert.deepEqual(
      associated.map((p) => p.number),
      [8],
    );

    sim.setPermission(fullName, "Alice", "write");
    const { data: alice } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo, username: "alice" });
    assert.deepEqual([alice.permission, alice.user?.login], ["write", "alice"]);
    const { data: mallory } = await octokit.rest.repos.getCollaboratorPermissionLevel({
      owner,
      repo,
      username: "mallory",
    });
    assert.equal(mallory.permission, "none");
  });

  test("updates a pull request's head and state, and serves heads in forks", async () => {
    sim.addPullRequest(fullName, { number: 13, headSha: mainSha, headRef: "feature/x", baseRef: "main", user: "bob" });
    const { data: before } = await octokit.rest.pulls.get({ owner, repo, pull_number: 13 });
    assert.deepEqual([before.head.sha, before.head.repo?.full_name, before.state], [mainSha, fullName, "open"]);
    sim.updatePullRequest(fullName, 13, { headSha: featureSha, state: "closed" });
    const { data: after } = await octokit.rest.pulls.get({ owner, repo, pull_number: 13 });
    assert.deepEqual(
      [after.head.sha, after.base.ref, after.state, after.merged],
      [featureSha, "main", "closed", false],
    );
    assert.throws(() => sim.updatePullRequest(fullName, 404, { headSha: mainSha }), /not registered/);

    sim.addPullRequest(fullName, {
      number: 14,
      headSha: featureSha,
      headRef: "patch-1",
      baseRef: "main",
      user: "eve",
      headRepo: "eve/deploy",
    });
    const { data: fork } = await octokit.rest.pulls.get({ owner, repo, pull_number: 14 });
    assert.deepEqual(
      [fork.head.repo?.full_name, fork.head.repo?.fork, fork.head.label, fork.base.repo.full_name],
      ["eve/deploy", true, "eve:patch-1", fullName],
    );
    sim.updatePullRequest(fullName, 14, { headRepo: null });
    const { data: gone } = await octokit.rest.pulls.get({ owner, repo, pull_number: 14 });
    assert.equal(gone.head.repo, null);
  });

  test("adds comments written by users, which the app can react to", async () => {
    sim.addPullRequest(fullName, {
      number: 15,
      headSha: featureSha,
      headRef: "feature/x",
      baseRef: "main",
      user: "alice",
    });
    const id = sim.addComment(fullName, 15, { user: "alice", body: "/ferry plan" });
    const { data: listed } = await octokit.rest.issues.listComments({ owner, repo, issue_number: 15 });
    assert.deepEqual(
      listed.map((c) => [c.id, c.body, c.user?.login, c.user?.type]),
      [[id, "/ferry plan", "alice", "User"]],
    );
    const first = await octokit.rest.reactions.createForIssueComment({ owner, repo, comment_id: id, content: "eyes" });
    const again = await octokit.rest.reactions.createForIssueComment({ owner, repo, comment_id: id, content: "eyes" });
    assert.deepEqual([first.status, again.status], [201, 200]);
    assert.deepEqual(
      sim.comments(fullName, 15).map((c) => [c.user, c.reactions]),
      [["alice", ["eyes"]]],
    );
    assert.throws(() => sim.addComment(fullName, 404, { user: "alice", body: "hi" }), /not registered/);
  });

  test("opens, lists and edits issues as GitHub does: pull requests listed too, labels made on the fly, refusals", async () => {
    sim.addPullRequest(fullName, {
      number: 16,
      headSha: featureSha,
      headRef: "feature/x",
      baseRef: "main",
      user: "alice",
      labels: ["Drift"],
    });
    const {
      data: opened,
      status,
      headers,
    } = await octokit.rest.issues.create({
      owner,
      repo,
      title: "Drift in prod",
      body: "x",
      labels: ["drift", "new-one"],
    });
    assert.deepEqual(
      [
        status,
        opened.number,
        opened.user?.login,
        opened.state,
        opened.labels.map((l) => (typeof l === "string" ? l : l.name)),
      ],
      [201, 17, "ferry[bot]", "open", ["Drift", "new-one"]],
    );
    assert.equal(headers.location, `${sim.apiUrl}/repos/${fullName}/issues/17`);
    assert.deepEqual(
      sim.labels(fullName).slice(-2),
      ["Drift", "new-one"],
      "label names match case-insensitively; missing ones are created",
    );
    const alices = sim.addIssue(fullName, { user: "alice", title: "Bug", labels: ["drift"] });
    sim.addIssue(fullName, { user: "alice", title: "Old", labels: ["drift"], state: "closed" });

    const list = async (query: Record<string, string>) =>
      (await octokit.rest.issues.listForRepo({ owner, repo, ...query })).data.map((i) => [
        i.number,
        i.pull_request === undefined ? "issue" : "pull",
      ]);
    assert.deepEqual(await list({ labels: "DRIFT", direction: "asc" }), [
      [16, "pull"],
      [17, "issue"],
      [alices, "issue"],
    ]);
    assert.deepEqual(await list({ labels: "drift,new-one" }), [[17, "issue"]]);
    assert.deepEqual(await list({ labels: "drift", creator: "Alice" }), [
      [alices, "issue"],
      [16, "pull"],
    ]);
    assert.equal((await list({ labels: "drift", state: "all" })).length, 4);

    const { data: closed } = await octokit.rest.issues.update({
      owner,
      repo,
      issue_number: 17,
      state: "closed",
      state_reason: "completed",
    });
    const { data: again } = await octokit.rest.issues.update({ owner, repo, issue_number: 17, state: "closed" });
    assert.deepEqual(
      [closed.state, closed.state_reason, again.state, closed.closed_by?.login],
      ["closed", "completed", "closed", "ferry[bot]"],
    );
    await octokit.rest.issues.createComment({ owner, repo, issue_number: 17, body: "done" });
    assert.deepEqual(
      sim.comments(fullName, 17).map((c) => c.body),
      ["done"],
    );

    const refused = async (promise: Promise<unknown>) => {
      try {
        await promise;
      } catch (error) {
        const { status: code, response } = error as { status: number; response: { data: unknown } };
        return [code, response.data];
      }
      assert.fail("expected the request to fail");
    };
    const validation = (field: string, code: string, message?: string) => ({
      message: "Validation Failed",
      errors: [{ resource: "Issue", code, field, ...(message === undefined ? {} : { message }) }],
      documentation_url: "https://docs.github.com/enterprise-server@3.14/rest",
      status: "422",
    });
    assert.deepEqual(
      await refused(
        octokit.request("POST /repos/{owner}/{repo}/issues", { owner, repo, body: "no title" } as unknown as {
          owner: string;
          repo: string;
          title: string;
        }),
      ),
      [422, validation("title", "missing_field")],
    );
    assert.deepEqual(
      await refused(octokit.rest.issues.create({ owner, repo, title: "big", body: "x".repeat(65537) })),
      [422, validation("body", "custom", "body is too long (maximum is 65536 characters)")],
    );
    assert.equal(
      (await octokit.rest.issues.create({ owner, repo, title: "fits", body: "x".repeat(65536) })).status,
      201,
    );
    assert.equal((await refused(octokit.rest.issues.update({ owner, repo, issue_number: 999, title: "x" })))[0], 404);
    assert.equal((await refused(octokit.rest.issues.listForRepo({ owner, repo: "nope" })))[0], 404);
    sim.setIssuesEnabled(fullName, false);
    assert.deepEqual((await refused(octokit.rest.issues.create({ owner, repo, title: "x" })))[0], 410);
    sim.setIssuesEnabled(fullName, true);
    assert.throws(
      () =>
        sim.addPullRequest(fullName, { number: 17, headSha: featureSha, headRef: "x", baseRef: "main", user: "alice" }),
      /share numbers/,
    );
  });

  test("refuses what the installation's permissions do not cover, as GitHub does", async () => {
    const locked = await GitRepo.create("locked");
    try {
      await locked.commit("empty");
      sim.addRepo("acme/locked", locked, { installationId: 3 });
      const as3 = new ProbotOctokit({
        auth: { appId: sim.appId, privateKey: sim.privateKeyPem, installationId: 3 },
        baseUrl: sim.apiUrl,
        throttle: { enabled: false },
        retry: { enabled: false },
      });
      const params = { owner, repo: "locked" };
      sim.setInstallationPermissions(3, { ...defaultInstallationPermissions, issues: "read", statuses: "read" });
      const { data: token } = await new ProbotOctokit({
        auth: { appId: sim.appId, privateKey: sim.privateKeyPem },
        baseUrl: sim.apiUrl,
      }).rest.apps.createInstallationAccessToken({ installation_id: 3 });
      assert.deepEqual([token.permissions?.issues, token.permissions?.statuses], ["read", "read"]);
      assert.deepEqual((await as3.rest.issues.listForRepo(params)).data, []);
      const forbidden = async (promise: Promise<unknown>) => {
        try {
          await promise;
        } catch (error) {
          const { status: code, response } = error as { status: number; response: { data: { message: string } } };
          return [code, response.data.message];
        }
        return "allowed";
      };
      const denied = [403, "Resource not accessible by integration"];
      assert.deepEqual(await forbidden(as3.rest.issues.create({ ...params, title: "x" })), denied);
      const sha = await locked.resolve("main");
      assert.deepEqual(
        await forbidden(as3.rest.repos.createCommitStatus({ ...params, sha: sha ?? "", state: "success" })),
        denied,
      );
      sim.setInstallationPermissions(3, { ...defaultInstallationPermissions, issues: "write" });
      const { data: issue } = await as3.rest.issues.create({ ...params, title: "x" });
      sim.setInstallationPermissions(3, { ...defaultInstallationPermissions, issues: "read" });
      // Commenting on an issue needs issues: write; pull_requests: write covers only pull requests.
      assert.deepEqual(
        await forbidden(as3.rest.issues.createComment({ ...params, issue_number: issue.number, body: "hi" })),
        denied,
      );
      sim.addPullRequest("acme/locked", {
        number: 50,
        headSha: sha ?? "",
        headRef: "main",
        baseRef: "main",
        user: "alice",
      });
      assert.equal(
        await forbidden(as3.rest.issues.createComment({ ...params, issue_number: 50, body: "hi" })),
        "allowed",
      );
    } finally {
      await locked.dispose();
    }
  });

  test("records unknown endpoints and hides repositories of other installations", async () => {
    const other = await GitRepo.create("other");
    try {
      await other.commit("empty");
      sim.addRepo("acme/other", other, { installationId: 2 });
      assert.equal(await rejectionStatus(octokit.rest.repos.get({ owner, repo })), 404);
      assert.deepEqual(sim.unhandled.at(-1), { method: "GET", path: `/api/v3/repos/${fullName}` });
      sim.unhandled.length = 0;
      assert.equal(await rejectionStatus(octokit.rest.git.getRef({ owner, repo: "other", ref: "heads/main" })), 404);
      assert.deepEqual(sim.unhandled, []);
    } finally {
      await other.dispose();
    }
  });

  test("fault injection answers matching requests in order, and the client retries", async () => {
    sim.failNext({ method: "POST", pathPrefix: `/repos/${fullName}/statuses/` }, [
      { status: 502 },
      { status: 503, headers: { "retry-after": "0" } },
    ]);
    const before = sim.requests.length;
    await octokit.rest.repos.createCommitStatus({
      owner,
      repo,
      sha: featureSha,
      state: "success",
      context: "ferry/apply",
    });
    const attempts = sim.requests.slice(before).filter((r) => r.path.includes("/statuses/"));
    assert.deepEqual(
      attempts.map((r) => [r.status, r.injected]),
      [
        [502, true],
        [503, true],
        [201, false],
      ],
    );
    assert.equal(sim.statuses(fullName, featureSha).length, 1);
  });
});

describe("webhook helpers", () => {
  test("githubPayload copies the first example and applies edits", () => {
    const a = githubPayload("pull_request", "opened", (p) => {
      p.number = 42;
    });
    const b = githubPayload("pull_request", "opened");
    assert.equal(a.action, "opened");
    assert.equal(a.number, 42);
    assert.notEqual(b.number, 42);
  });

  test("mergedPullRequest and pushEvent point at the simulated repository", () => {
    const merged = mergedPullRequest({
      repo: fullName,
      number: 12,
      base: "main",
      headSha: "a".repeat(40),
      mergeCommitSha: "b".repeat(40),
      mergedBy: "carol",
    });
    assert.equal(merged.action, "closed");
    assert.deepEqual(
      [
        merged.pull_request.merged,
        merged.pull_request.merge_commit_sha,
        merged.pull_request.merged_by?.login,
        merged.pull_request.base.ref,
      ],
      [true, "b".repeat(40), "carol", "main"],
    );
    assert.deepEqual(
      [
        merged.repository.full_name,
        merged.repository.owner.login,
        merged.repository.name,
        merged.repository.default_branch,
      ],
      [fullName, owner, repo, "main"],
    );
    assert.equal(merged.installation?.id, 1);
    assert.equal(merged.pull_request.base.repo.full_name, fullName);
    assert.ok(!JSON.stringify(merged).includes("Codertocat/Hello-World"));
    assert.equal(merged.pull_request.html_url, "https://github.com/acme/deploy/pull/12");
    assert.ok(merged.pull_request.commits_url.endsWith("/repos/acme/deploy/pulls/12/commits"));

    const push = pushEvent({ repo: fullName, ref: "main", before: zeroSha, after: "c".repeat(40), pusher: "dave" });
    assert.deepEqual(
      [push.ref, push.after, push.created, push.head_commit?.id, push.pusher.name],
      ["refs/heads/main", "c".repeat(40), true, "c".repeat(40), "dave"],
    );
    assert.deepEqual([push.repository.full_name, push.installation?.id], [fullName, 1]);
  });

  test("pullRequestEvent builds an open pull request's event, in the repository or from a fork", () => {
    const opened = pullRequestEvent({
      repo: fullName,
      action: "opened",
      number: 21,
      headSha: "a".repeat(40),
      base: "main",
      author: "erin",
    });
    assert.deepEqual(
      [
        opened.action,
        opened.number,
        opened.pull_request.number,
        opened.pull_request.state,
        opened.pull_request.head.sha,
        opened.pull_request.base.ref,
      ],
      ["opened", 21, 21, "open", "a".repeat(40), "main"],
    );
    assert.deepEqual(
      [
        opened.pull_request.head.repo?.full_name,
        opened.pull_request.user.login,
        opened.sender.login,
        opened.installation?.id,
      ],
      [fullName, "erin", "erin", 1],
    );
    assert.ok(!JSON.stringify(opened).includes("Codertocat/Hello-World"));
    assert.equal(opened.pull_request.html_url, "https://github.com/acme/deploy/pull/21");

    const pushed = pullRequestEvent({
      repo: fullName,
      action: "synchronize",
      number: 22,
      headSha: "b".repeat(40),
      base: "release",
      fromFork: true,
      sender: "frank",
    });
    assert.deepEqual(
      [
        pushed.action,
        pushed.pull_request.head.repo?.full_name,
        pushed.pull_request.head.repo?.fork,
        pushed.pull_request.base.repo.full_name,
      ],
      ["synchronize", "fork-owner/deploy", true, fullName],
    );
    assert.equal(pushed.sender.login, "frank");
    assert.equal(
      pullRequestEvent({ repo: fullName, action: "reopened", number: 23, headSha: "c".repeat(40), base: "main" })
        .action,
      "reopened",
    );
  });

  test("issueCommentEvent builds a new comment on a pull request, or on a plain issue", () => {
    const comment = issueCommentEvent({ repo: fullName, number: 31, body: "/ferry plan staging", user: "grace" });
    assert.deepEqual(
      [
        comment.action,
        comment.issue.number,
        comment.comment.body,
        comment.comment.user.login,
        comment.comment.user.type,
        comment.sender.login,
      ],
      ["created", 31, "/ferry plan staging", "grace", "User", "grace"],
    );
    assert.equal(comment.issue.pull_request?.html_url, "https://github.com/acme/deploy/pull/31");
    assert.deepEqual(
      [comment.comment.id, comment.comment.html_url],
      [5031, "https://github.com/acme/deploy/pull/31#issuecomment-5031"],
    );
    assert.deepEqual([comment.repository.full_name, comment.installation?.id], [fullName, 1]);
    assert.ok(!JSON.stringify(comment).includes("Codertocat/Hello-World"));

    const bot = issueCommentEvent({
      repo: fullName,
      number: 31,
      body: "/ferry plan",
      user: "ferry[bot]",
      userType: "Bot",
      commentId: 9,
    });
    assert.deepEqual([bot.comment.user.type, bot.comment.id], ["Bot", 9]);
    const onIssue = issueCommentEvent({ repo: fullName, number: 32, body: "hi", user: "grace", pullRequest: false });
    assert.deepEqual(
      [onIssue.issue.pull_request, onIssue.comment.html_url],
      [undefined, "https://github.com/acme/deploy/issues/32#issuecomment-5032"],
    );
  });

  test("sendGitHubWebhook signs the exact body it sends", async () => {
    const secret = "webhook-secret";
    const received: Array<{ event: string | undefined; delivery: string | undefined; valid: boolean; body: unknown }> =
      [];
    const app = express();
    app.post("/api/github/webhooks", express.text({ type: "application/json" }), async (req, res) => {
      const raw = typeof req.body === "string" ? req.body : "";
      const valid = await verify(secret, raw, req.get("x-hub-signature-256") ?? "");
      received.push({
        event: req.get("x-github-event"),
        delivery: req.get("x-github-delivery"),
        valid,
        body: JSON.parse(raw) as unknown,
      });
      res.status(valid ? 200 : 400).send(valid ? "ok" : "bad signature");
    });
    const server = app.listen(0, "127.0.0.1");
    await new Promise<void>((resolve) => server.once("listening", () => resolve()));
    try {
      const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const payload = pushEvent({
        repo: fullName,
        ref: "main",
        before: "d".repeat(40),
        after: "e".repeat(40),
        pusher: "dave",
      });
      const ok = await sendGitHubWebhook(baseUrl, { event: "push", payload, secret, deliveryId: "delivery-1" });
      assert.deepEqual(ok, { status: 200, body: "ok" });
      assert.deepEqual(received[0], { event: "push", delivery: "delivery-1", valid: true, body: payload });

      const wrong = await sendGitHubWebhook(baseUrl, { event: "push", payload, secret: "other-secret" });
      assert.equal(wrong.status, 400);
      assert.equal(received[1]?.valid, false);
      assert.match(received[1]?.delivery ?? "", /^[0-9a-f-]{36}$/);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
