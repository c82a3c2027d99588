import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { createProbot, type Probot, type ProbotOctokit } from "probot";
import { ferryError } from "../../../test/support/ferry-error.js";
import type { GitRepo } from "../../../test/support/git-repo.js";
import { defaultInstallationPermissions, GitHubSimulator } from "../../../test/support/github-simulator.js";
import { startSimulatedGitHub } from "../../../test/support/simulated-github.js";
import { untarGz } from "../../../test/support/untar-gz.js";
import type { RepoRef } from "../../domain/repo.js";
import { ferryIssueLabel, type Forge } from "../types.js";
import { ferryOctokit } from "./ferry-octokit.js";
import { GitHubForge } from "./github-forge.js";
import { githubForgeFactory } from "./github-forge-factory.js";

const fullName = "acme/deploy";
const repoRef: RepoRef = { forge: "github", fullName, installationId: 1 };
const secondaryRateLimit = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.";

describe("GitHubForge against the GitHub simulator", () => {
  let sim: GitHubSimulator;
  let git: GitRepo;
  let probot: Probot;
  let forge: Forge;
  let octokit: ProbotOctokit;
  let mainSha: string;
  let featureSha: string;
  let mergeSha: string;

  /** Requests to paths under `/api/v3` + `suffix` since `from`. */
  const requestsTo = (from: number, method: string, suffix: string) =>
    sim.requests.slice(from).filter((r) => r.method === method && r.path.startsWith(`/api/v3${suffix}`));

  before(async () => {
    ({ git, mainSha, featureSha, mergeSha, sim, probot } = await startSimulatedGitHub(fullName));
    forge = await githubForgeFactory(probot)(repoRef);
    octokit = await probot.auth(1);
  });

  after(async () => {
    await sim.close();
    await git.dispose();
  });

  test("the factory finds the installation when the job lacks it, and reads the bot login once", async () => {
    const factory = githubForgeFactory(probot);
    const from = sim.requests.length;
    const found = await factory({ forge: "github", fullName });
    await factory({ forge: "github", fullName, installationId: 1 });
    assert.equal(found.repo.installationId, 1);
    assert.equal(requestsTo(from, "GET", "/app").filter((r) => r.path === "/api/v3/app").length, 1);
    assert.equal(requestsTo(from, "GET", `/repos/${fullName}/installation`).length, 1);
    assert.equal(await found.branchHead("main"), mergeSha);

    const missing = await ferryError(factory({ forge: "github", fullName: "acme/missing" }));
    assert.equal(missing.kind, "permanent");
    assert.equal(missing.message, "GitHub: finding the app installation on acme/missing: 404 Not Found");
  });

  test("branchHead reads the branch's commit", async () => {
    assert.equal(await forge.branchHead("main"), mergeSha);
    assert.equal(await forge.branchHead("feature/x"), featureSha);
    const unknown = await ferryError(forge.branchHead("nope"));
    assert.equal(unknown.kind, "permanent");
    assert.equal(unknown.message, "GitHub: reading branch nope: 404 Not Found");
  });

  test("downloadArchive streams the tarball through GitHub's redirect", async () => {
    const from = sim.requests.length;
    const files = await untarGz(await forge.downloadArchive(featureSha));
    const prefix = `acme-deploy-${featureSha.slice(0, 7)}`;
    assert.equal(files.get(`${prefix}/envs/staging/app.yaml`), "kind: Secret\n");
    assert.equal(files.get(`${prefix}/README.md`), "hello\n");
    assert.deepEqual(
      sim.requests.slice(from).map((r) => [r.path.replace(/\?.*$/, ""), r.status]),
      [
        [`/api/v3/repos/${fullName}/tarball/${featureSha}`, 302],
        [`/_codeload/${fullName}/legacy.tar.gz/${featureSha}`, 200],
      ],
    );

    const unknown = await ferryError(forge.downloadArchive("f".repeat(40)));
    assert.deepEqual(
      [unknown.kind, unknown.message],
      ["permanent", "GitHub: downloading the archive of fffffff: 404 Not Found"],
    );
  });

  test("setStatus maps running to pending and trims long descriptions to 140 characters", async () => {
    await forge.setStatus(mainSha, {
      context: "ferry/deploy/staging",
      state: "running",
      description: "Deploying",
      targetUrl: "http://ferry.example/runs/1",
    });
    await forge.setStatus(mainSha, { context: "ferry/deploy/staging", state: "failure", description: "x".repeat(200) });
    await forge.setStatus(mainSha, { context: "ferry/plan/staging", state: "success", description: "No changes" });
    const statuses = sim.statuses(fullName, mainSha);
    assert.deepEqual(
      statuses.map((s) => [s.context, s.state, s.target_url]),
      [
        ["ferry/deploy/staging", "pending", "http://ferry.example/runs/1"],
        ["ferry/deploy/staging", "failure", null],
        ["ferry/plan/staging", "success", null],
      ],
    );
    assert.equal(statuses[0]?.description, "Deploying");
    const trimmed = statuses[1]?.description ?? "";
    assert.equal(trimmed.length, 140);
    assert.equal(trimmed, `${"x".repeat(139)}…`);
    assert.equal(statuses[1]?.creator, "ferry[bot]");
  });

  test("changesMergedAs lists the pull requests merged as the sha, newest first", async () => {
    const pr = { headRef: "feature/x", baseRef: "main", user: "alice" };
    sim.addPullRequest(fullName, { ...pr, number: 3, headSha: featureSha, mergeCommitSha: mergeSha, merged: true });
    sim.addPullRequest(fullName, { ...pr, number: 5, headSha: featureSha, mergeCommitSha: mergeSha, merged: true });
    // Open, but its head is the sha: GitHub lists it too, yet it was not merged as the sha.
    sim.addPullRequest(fullName, { ...pr, number: 4, headSha: mergeSha });
    // Merged elsewhere, with the sha as its head.
    sim.addPullRequest(fullName, { ...pr, number: 6, headSha: mergeSha, mergeCommitSha: mainSha, merged: true });
    assert.deepEqual(await forge.changesMergedAs(mergeSha), [5, 3]);
    assert.deepEqual(await forge.changesMergedAs(mainSha), [6]);
    assert.deepEqual(await forge.changesMergedAs(featureSha), []);
  });

  test("ensureComment creates the comment, then edits it in place, and skips an identical body", async () => {
    sim.addPullRequest(fullName, {
      number: 10,
      headSha: featureSha,
      headRef: "feature/x",
      baseRef: "main",
      user: "alice",
    });
    const marker = "<!-- ferry:plan:staging -->";
    await forge.createComment(10, "Someone else's note, without the marker");
    await forge.ensureComment(10, marker, "Plan: 1 to change");
    await forge.ensureComment(10, marker, `${marker}\nPlan: 2 to change`);
    let comments = sim.comments(fullName, 10);
    assert.deepEqual(
      comments.map((c) => [c.body, c.edits, c.user]),
      [
        ["Someone else's note, without the marker", 0, "ferry[bot]"],
        [`${marker}\nPlan: 2 to change`, 1, "ferry[bot]"],
      ],
    );

    const from = sim.requests.length;
    await forge.ensureComment(10, marker, "Plan: 2 to change");
    comments = sim.comments(fullName, 10);
    assert.equal(comments.length, 2);
    assert.equal(comments[1]?.edits, 1);
    assert.deepEqual(requestsTo(from, "PATCH", "/repos/"), []);
  });

  test("ensureComment finds its comment past the first page of 100", async () => {
    sim.addPullRequest(fullName, {
      number: 11,
      headSha: featureSha,
      headRef: "feature/x",
      baseRef: "main",
      user: "alice",
    });
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        octokit.rest.issues.createComment({ owner: "acme", repo: "deploy", issue_number: 11, body: `filler ${i}` }),
      ),
    );
    const marker = "<!-- ferry:deploy -->";
    await forge.ensureComment(11, marker, "first");
    await forge.ensureComment(11, marker, "second");
    const comments = sim.comments(fullName, 11);
    assert.equal(comments.length, 101);
    assert.deepEqual([comments[100]?.body, comments[100]?.edits], [`${marker}\nsecond`, 1]);
  });

  test("ensureComment leaves a comment holding the marker that another user wrote", async () => {
    sim.addPullRequest(fullName, {
      number: 12,
      headSha: featureSha,
      headRef: "feature/x",
      baseRef: "main",
      user: "alice",
    });
    const marker = "<!-- ferry:plan:prod -->";
    // GitHub lists a comment by mallory that copies Ferry's marker.
    sim.failNext({ method: "GET", pathPrefix: `/repos/${fullName}/issues/12/comments` }, [
      {
        status: 200,
        body: [{ id: 999_999, body: `${marker}\nlooks like Ferry`, user: { login: "mallory", type: "User" } }],
      },
    ]);
    const from = sim.requests.length;
    await forge.ensureComment(12, marker, "Plan: nothing to change");
    assert.deepEqual(requestsTo(from, "PATCH", "/repos/"), []);
    assert.deepEqual(
      sim.comments(fullName, 12).map((c) => [c.body, c.user]),
      [[`${marker}\nPlan: nothing to change`, "ferry[bot]"]],
    );
  });

  test("accessLevel maps GitHub's permissions and roles", async () => {
    sim.setPermission(fullName, "wendy", "write");
    sim.setPermission(fullName, "rita", "read");
    sim.setPermission(fullName, "ada", "admin");
    sim.setPermission(fullName, "nora", "none");
    assert.equal(await forge.accessLevel("wendy"), "write");
    assert.equal(await forge.accessLevel("rita"), "read");
    assert.equal(await forge.accessLevel("ada"), "admin");
    assert.equal(await forge.accessLevel("nora"), "none");
    assert.equal(await forge.accessLevel("stranger"), "none");

    const path = `/repos/${fullName}/collaborators/`;
    sim.failNext({ method: "GET", pathPrefix: `${path}ghost/` }, [
      { status: 404, body: { message: "ghost is not a user" } },
    ]);
    assert.equal(await forge.accessLevel("ghost"), "none");
    sim.failNext({ method: "GET", pathPrefix: `${path}maya/` }, [
      { status: 200, body: { permission: "write", role_name: "maintain" } },
    ]);
    assert.equal(await forge.accessLevel("maya"), "admin");
    sim.failNext({ method: "GET", pathPrefix: `${path}tess/` }, [
      { status: 200, body: { permission: "read", role_name: "triage" } },
    ]);
    assert.equal(await forge.accessLevel("tess"), "read");
  });

  test("openChanges lists the open pull requests into a branch, newest first, past the first page of 100", async () => {
    for (let n = 700; n < 802; n++)
      sim.addPullRequest(fullName, {
        number: n,
        headSha: featureSha,
        headRef: `f-${n}`,
        baseRef: "release/v9",
        user: "alice",
      });
    sim.addPullRequest(fullName, {
      number: 802,
      headSha: mainSha,
      headRef: "fork-x",
      baseRef: "release/v9",
      user: "eve",
      headRepo: "eve/deploy",
    });
    sim.addPullRequest(fullName, {
      number: 803,
      headSha: featureSha,
      headRef: "done",
      baseRef: "release/v9",
      user: "bob",
      merged: true,
      mergeCommitSha: mergeSha,
    });
    sim.addPullRequest(fullName, {
      number: 804,
      headSha: featureSha,
      headRef: "gone",
      baseRef: "release/v9",
      user: "bob",
      state: "closed",
    });
    sim.addPullRequest(fullName, { number: 805, headSha: featureSha, headRef: "other", baseRef: "main", user: "bob" });
    const open = await forge.openChanges("release/v9");
    assert.equal(open.length, 103);
    assert.deepEqual(open[0], { number: 802, headSha: mainSha, fromFork: true, author: "eve" });
    assert.deepEqual(open[1], { number: 801, headSha: featureSha, fromFork: false, author: "alice" });
    assert.deepEqual(open.at(-1)?.number, 700);
  });

  test("changeHead reads the pull request's current head, base, state and origin", async () => {
    sim.addPullRequest(fullName, {
      number: 20,
      headSha: mainSha,
      headRef: "feature/x",
      baseRef: "main",
      user: "alice",
    });
    assert.deepEqual(await forge.changeHead(20), { sha: mainSha, baseBranch: "main", open: true, fromFork: false });

    sim.updatePullRequest(fullName, 20, { headSha: featureSha });
    assert.deepEqual(await forge.changeHead(20), { sha: featureSha, baseBranch: "main", open: true, fromFork: false });
    sim.updatePullRequest(fullName, 20, { merged: true, mergeCommitSha: mergeSha });
    assert.equal((await forge.changeHead(20)).open, false);
    sim.updatePullRequest(fullName, 20, { merged: false, state: "closed" });
    assert.equal((await forge.changeHead(20)).open, false);

    sim.addPullRequest(fullName, {
      number: 21,
      headSha: featureSha,
      headRef: "patch-1",
      baseRef: "release/v2",
      user: "eve",
      headRepo: "eve/deploy",
    });
    assert.deepEqual(await forge.changeHead(21), {
      sha: featureSha,
      baseBranch: "release/v2",
      open: true,
      fromFork: true,
    });
    sim.updatePullRequest(fullName, 21, { headRepo: null });
    assert.equal((await forge.changeHead(21)).fromFork, true);
    // GitHub matches repository names case-insensitively, so a job may spell the name differently.
    const shouty = new GitHubForge({ octokit, repo: { ...repoRef, fullName: "ACME/Deploy" }, botLogin: sim.botLogin });
    assert.equal((await shouty.changeHead(20)).fromFork, false);

    const missing = await ferryError(forge.changeHead(404));
    assert.deepEqual(
      [missing.kind, missing.message],
      ["permanent", "GitHub: reading pull request #404: 404 Not Found"],
    );
    sim.failNext({ method: "GET", pathPrefix: `/repos/${fullName}/pulls/20` }, [
      { status: 502 },
      { status: 502 },
      { status: 502 },
      { status: 502 },
    ]);
    const down = await ferryError(forge.changeHead(20));
    assert.deepEqual([down.kind, down.message], ["transient", "GitHub: reading pull request #20: 502 Bad Gateway"]);
  });

  test("react adds a reaction to a user's comment, once however often it is repeated", async () => {
    sim.addPullRequest(fullName, {
      number: 22,
      headSha: featureSha,
      headRef: "feature/x",
      baseRef: "main",
      user: "alice",
    });
    const id = sim.addComment(fullName, 22, { user: "alice", body: "/ferry plan staging" });
    await forge.react(22, id, "eyes");
    await forge.react(22, id, "eyes");
    await forge.react(22, id, "+1");
    const from = sim.requests.length;
    await forge.react(22, id, "-1");
    assert.deepEqual(
      requestsTo(from, "POST", `/repos/${fullName}/issues/comments/${id}/reactions`).map((r) => r.status),
      [201],
    );
    assert.deepEqual(
      sim.comments(fullName, 22).map((c) => [c.user, c.body, c.reactions]),
      [["alice", "/ferry plan staging", ["eyes", "+1", "-1"]]],
    );

    const missing = await ferryError(forge.react(22, 1, "eyes"));
    assert.deepEqual(
      [missing.kind, missing.message],
      ["permanent", "GitHub: reacting eyes to comment 1: 404 Not Found"],
    );
    sim.failNext({ method: "POST", pathPrefix: `/repos/${fullName}/issues/comments/${id}/reactions` }, [
      { status: 403, body: { message: "Resource not accessible by integration" } },
    ]);
    const forbidden = await ferryError(forge.react(22, id, "+1"));
    assert.deepEqual(
      [forbidden.kind, forbidden.message],
      ["permanent", `GitHub: reacting +1 to comment ${id}: 403 Resource not accessible by integration`],
    );
  });

  // Final statuses are not retried by the client: see "a final status is never posted twice".
  test("a 502, and a 429 without GitHub's rate-limit shape, are retried transparently", async () => {
    const statusPath = `/repos/${fullName}/statuses/`;
    sim.failNext({ method: "POST", pathPrefix: statusPath }, [{ status: 502 }, { status: 429 }]);
    const from = sim.requests.length;
    await forge.setStatus(featureSha, { context: "ferry/deploy/retry", state: "running", description: "deploying" });
    assert.deepEqual(
      requestsTo(from, "POST", statusPath).map((r) => [r.status, r.injected]),
      [
        [502, true],
        [429, true],
        [201, false],
      ],
    );
  });

  test("a secondary rate limit with Retry-After: 1 is retried after waiting", async () => {
    const statusPath = `/repos/${fullName}/statuses/`;
    sim.failNext({ method: "POST", pathPrefix: statusPath }, [
      { status: 429, headers: { "retry-after": "1" }, body: { message: secondaryRateLimit } },
    ]);
    const from = sim.requests.length;
    const started = Date.now();
    await forge.setStatus(featureSha, { context: "ferry/deploy/limited", state: "running", description: "deploying" });
    assert.ok(Date.now() - started >= 950, `retried after ${Date.now() - started} ms`);
    assert.deepEqual(
      requestsTo(from, "POST", statusPath).map((r) => r.status),
      [429, 201],
    );
  });

  test("a primary rate limit is retried a few times, then fails as transient", async () => {
    const statusPath = `/repos/${fullName}/statuses/`;
    const exhausted = {
      status: 403,
      headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "0" },
      body: { message: "API rate limit exceeded for installation ID 1." },
    };
    sim.failNext({ method: "POST", pathPrefix: statusPath }, [exhausted]);
    await forge.setStatus(featureSha, { context: "ferry/deploy/primary", state: "success", description: "ok" });

    sim.failNext({ method: "POST", pathPrefix: statusPath }, [exhausted, exhausted, exhausted, exhausted]);
    const from = sim.requests.length;
    const error = await ferryError(
      forge.setStatus(featureSha, { context: "ferry/deploy/primary", state: "success", description: "ok" }),
    );
    assert.equal(error.kind, "transient");
    assert.equal(
      error.message,
      `GitHub: setting status ferry/deploy/primary on ${featureSha.slice(0, 7)}: 403 API rate limit exceeded for installation ID 1.`,
    );
    assert.equal(requestsTo(from, "POST", statusPath).length, 4);
  });

  test("setStatus on an unknown sha or repository fails as permanent", async () => {
    const unknownSha = await ferryError(
      forge.setStatus("0".repeat(40), { context: "ferry/deploy/staging", state: "success", description: "ok" }),
    );
    assert.equal(unknownSha.kind, "permanent");
    assert.equal(
      unknownSha.message,
      `GitHub: setting status ferry/deploy/staging on 0000000: 422 No commit found for SHA: ${"0".repeat(40)}`,
    );

    const elsewhere = new GitHubForge({
      octokit,
      repo: { forge: "github", fullName: "acme/missing", installationId: 1 },
      botLogin: sim.botLogin,
    });
    const unknownRepo = await ferryError(
      elsewhere.setStatus(mainSha, { context: "ferry/deploy/staging", state: "success", description: "ok" }),
    );
    assert.equal(unknownRepo.kind, "permanent");
    assert.equal(
      unknownRepo.message,
      `GitHub: setting status ferry/deploy/staging on ${mainSha.slice(0, 7)}: 404 Not Found`,
    );

    sim.failNext({ method: "POST", pathPrefix: `/repos/${fullName}/statuses/` }, [
      { status: 403, body: { message: "Resource not accessible by integration" } },
    ]);
    const forbidden = await ferryError(
      forge.setStatus(mainSha, { context: "ferry/deploy/staging", state: "success", description: "ok" }),
    );
    assert.deepEqual(
      [forbidden.kind, forbidden.message.endsWith("403 Resource not accessible by integration")],
      ["permanent", true],
    );

    const tooLong = await ferryError(forge.createComment(10, "x".repeat(forge.maxCommentLength + 1)));
    assert.deepEqual(
      [tooLong.kind, tooLong.message],
      ["permanent", "GitHub: commenting on #10: 422 Validation Failed: Body is too long (maximum is 65536 characters)"],
    );
  });

  test("a 500 repeated beyond the retries fails as transient", async () => {
    const statusPath = `/repos/${fullName}/statuses/`;
    sim.failNext({ method: "POST", pathPrefix: statusPath }, [
      { status: 500 },
      { status: 500 },
      { status: 500 },
      { status: 500 },
    ]);
    const from = sim.requests.length;
    const error = await ferryError(
      forge.setStatus(featureSha, { context: "ferry/deploy/down", state: "running", description: "deploying" }),
    );
    assert.equal(error.kind, "transient");
    assert.equal(
      error.message,
      `GitHub: setting status ferry/deploy/down on ${featureSha.slice(0, 7)}: 500 Internal Server Error`,
    );
    assert.equal(requestsTo(from, "POST", statusPath).length, 4);
  });

  test("a final status is never posted twice: after a 5xx it is sent again only when the commit does not show it", async () => {
    const statusPath = `/repos/${fullName}/statuses/`;
    const final = { context: "ferry/deploy/once", state: "success", description: "deployed" } as const;
    const from = sim.requests.length;
    // Stored, then answered 502: not retried by the client, and not posted again by the next call.
    sim.failNext({ method: "POST", pathPrefix: statusPath }, [{ status: 502, afterHandling: true }]);
    assert.equal((await ferryError(forge.setStatus(featureSha, final))).kind, "transient");
    await forge.setStatus(featureSha, final);
    assert.equal(requestsTo(from, "POST", statusPath).length, 1);
    // Refused before it was stored: the next call posts it.
    sim.failNext({ method: "POST", pathPrefix: statusPath }, [{ status: 502 }]);
    const failed = { ...final, state: "failure", description: "failed" } as const;
    assert.equal((await ferryError(forge.setStatus(featureSha, failed))).kind, "transient");
    await forge.setStatus(featureSha, failed);
    assert.equal(requestsTo(from, "POST", statusPath).length, 3);
    const seen = sim.statuses(fullName, featureSha).filter((s) => s.context === final.context);
    assert.deepEqual(
      seen.map((s) => s.description),
      ["deployed", "failed"],
    );
  });

  test("with writeSpacing, writes of one installation stay a second apart", async () => {
    const spaced = createProbot({
      env: {
        APP_ID: String(sim.appId),
        PRIVATE_KEY: sim.privateKeyPem,
        WEBHOOK_SECRET: "secret",
        GHE_HOST: sim.host,
        GHE_PROTOCOL: "http",
        LOG_LEVEL: "fatal",
      },
      overrides: { Octokit: ferryOctokit({ writeSpacing: true }) },
    });
    const spacedForge = await githubForgeFactory(spaced, { botLogin: sim.botLogin })(repoRef);
    const started = Date.now();
    await spacedForge.setStatus(mainSha, { context: "ferry/deploy/a", state: "success", description: "ok" });
    await spacedForge.setStatus(mainSha, { context: "ferry/deploy/b", state: "success", description: "ok" });
    assert.ok(Date.now() - started >= 950, `two writes took ${Date.now() - started} ms`);
  });

  test("a network error fails as transient, without the token in the message", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", () => resolve()));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const token = "ghs_secrettokenvalue";
    const Octokit = ferryOctokit({ writeSpacing: false, retryBackoffMs: 1 });
    const offline = new GitHubForge({
      octokit: new Octokit({ baseUrl: `http://127.0.0.1:${port}/api/v3`, auth: { token } }),
      repo: repoRef,
      botLogin: sim.botLogin,
    });
    const error = await ferryError(offline.branchHead("main"));
    assert.equal(error.kind, "transient");
    assert.match(error.message, /^GitHub: reading branch main: network error: /);
    assert.ok(!error.message.includes(token));
  });

  describe("drift issues", () => {
    const issuesPath = `/repos/${fullName}/issues`;
    /** Ferry's issues holding `marker`, as the simulator has them. */
    const issuesWith = (marker: string) => sim.issues(fullName).filter((i) => i.body?.includes(marker) === true);

    test("ensureIssue opens the issue once, labelled, then edits it in place, and sends nothing when unchanged", async () => {
      const marker = "<!-- ferry:drift:staging -->";
      const opened = await forge.ensureIssue(marker, "Drift in staging", "spec.replicas: 3 → 5");
      assert.equal(opened.created, true);
      assert.equal(opened.url, `${sim.url}/${fullName}/issues/${opened.number}`);

      let from = sim.requests.length;
      assert.deepEqual(await forge.ensureIssue(marker, "Drift in staging", "spec.replicas: 3 → 5"), {
        ...opened,
        created: false,
      });
      assert.deepEqual(requestsTo(from, "POST", "/repos/"), []);
      assert.deepEqual(requestsTo(from, "PATCH", "/repos/"), []);

      from = sim.requests.length;
      await forge.ensureIssue(marker, "Drift in staging", "spec.replicas: 3 → 6");
      await forge.ensureIssue(marker, "Drift in staging (2 objects)", "spec.replicas: 3 → 6");
      assert.deepEqual(
        requestsTo(from, "PATCH", issuesPath).map((r) => [r.path, r.status]),
        [
          [`/api/v3${issuesPath}/${opened.number}`, 200],
          [`/api/v3${issuesPath}/${opened.number}`, 200],
        ],
      );
      assert.deepEqual(
        issuesWith(marker).map((i) => [i.number, i.title, i.body, i.user, i.state, i.labels, i.edits]),
        [
          [
            opened.number,
            "Drift in staging (2 objects)",
            `${marker}\nspec.replicas: 3 → 6`,
            "ferry[bot]",
            "open",
            [ferryIssueLabel],
            2,
          ],
        ],
      );
      assert.ok(sim.labels(fullName).includes(ferryIssueLabel), "GitHub created the label with the first issue");
    });

    test("ensureIssue never takes an issue by someone else, a pull request, or another environment's issue", async () => {
      const marker = "<!-- ferry:drift:canary -->";
      const mallory = sim.addIssue(fullName, {
        user: "mallory",
        title: "Drift in canary",
        body: `${marker}\nfake`,
        labels: [ferryIssueLabel],
      });
      const otherApp = sim.addIssue(fullName, {
        user: "other[bot]",
        title: "Drift in canary",
        body: `${marker}\nfake`,
        labels: [ferryIssueLabel],
      });
      sim.addPullRequest(fullName, {
        number: 900,
        headSha: featureSha,
        headRef: "feature/x",
        baseRef: "main",
        user: sim.botLogin,
        body: `${marker}\na pull request`,
        labels: [ferryIssueLabel],
      });
      const other = await forge.ensureIssue("<!-- ferry:drift:qa -->", "Drift in qa", "1 field");
      // GitHub's list holds all of them: the forge has to filter them out itself.
      const listed = await octokit.rest.issues.listForRepo({
        owner: "acme",
        repo: "deploy",
        state: "open",
        labels: ferryIssueLabel,
        per_page: 100,
      });
      assert.deepEqual(
        [mallory, otherApp, 900, other.number].map((n) => listed.data.some((i) => i.number === n)),
        [true, true, true, true],
      );

      const ensured = await forge.ensureIssue(marker, "Drift in canary", "1 field");
      assert.equal(ensured.created, true);
      assert.ok(![mallory, otherApp, 900, other.number].includes(ensured.number));
      assert.deepEqual(
        sim
          .issues(fullName)
          .filter((i) => [mallory, otherApp, other.number].includes(i.number))
          .map((i) => [i.edits, i.state]),
        [
          [0, "open"],
          [0, "open"],
          [0, "open"],
        ],
      );
      assert.equal(await forge.closeIssue(marker, "Back in sync."), true);
      assert.deepEqual(
        [mallory, otherApp].map((n) => sim.issues(fullName).find((i) => i.number === n)?.state),
        ["open", "open"],
      );
    });

    test("closeIssue comments and closes as completed, is false when none is open, and new drift opens a new issue", async () => {
      const marker = "<!-- ferry:drift:production -->";
      assert.equal(await forge.closeIssue(marker, "Back in sync."), false);
      const first = await forge.ensureIssue(marker, "Drift in production", "data.key changed");
      assert.equal(await forge.closeIssue(marker, "Back in sync at abc1234."), true);
      const closed = sim.issues(fullName).find((i) => i.number === first.number);
      assert.deepEqual([closed?.state, closed?.stateReason], ["closed", "completed"]);
      assert.deepEqual(
        sim.comments(fullName, first.number).map((c) => [c.user, c.body]),
        [["ferry[bot]", "Back in sync at abc1234."]],
      );

      const from = sim.requests.length;
      assert.equal(await forge.closeIssue(marker, "Back in sync at abc1234."), false);
      assert.deepEqual([...requestsTo(from, "POST", "/repos/"), ...requestsTo(from, "PATCH", "/repos/")], []);

      const second = await forge.ensureIssue(marker, "Drift in production", "data.key changed again");
      assert.equal(second.created, true);
      assert.notEqual(second.number, first.number);
      assert.deepEqual(
        issuesWith(marker).map((i) => [i.number, i.state]),
        [
          [first.number, "closed"],
          [second.number, "open"],
        ],
      );
    });

    test("a closeIssue retried after the close failed comments once", async () => {
      const marker = "<!-- ferry:drift:retry -->";
      const { number } = await forge.ensureIssue(marker, "Drift in retry", "1 field");
      sim.failNext(
        { method: "PATCH", pathPrefix: `${issuesPath}/${number}` },
        Array.from({ length: 4 }, () => ({ status: 500 })),
      );
      const failed = await ferryError(forge.closeIssue(marker, "Back in sync."));
      assert.deepEqual(
        [failed.kind, failed.message],
        ["transient", `GitHub: closing issue #${number}: 500 Internal Server Error`],
      );
      assert.equal(await forge.closeIssue(marker, "Back in sync."), true);
      assert.deepEqual(
        sim.comments(fullName, number).map((c) => c.body),
        ["Back in sync."],
      );
      assert.equal(sim.issues(fullName).find((i) => i.number === number)?.state, "closed");
    });

    test("issues that raced in are closed as duplicates of the oldest, which is kept", async () => {
      const marker = "<!-- ferry:drift:race -->";
      const open = () =>
        octokit.rest.issues.create({
          owner: "acme",
          repo: "deploy",
          title: "Drift in race",
          body: `${marker}\nx`,
          labels: [ferryIssueLabel],
        });
      const { data: oldest } = await open();
      const { data: newer } = await open();
      const ensured = await forge.ensureIssue(marker, "Drift in race", "x");
      assert.deepEqual([ensured.number, ensured.created], [oldest.number, false]);
      assert.deepEqual(
        issuesWith(marker).map((i) => [i.number, i.state]),
        [
          [oldest.number, "open"],
          [newer.number, "closed"],
        ],
      );
      assert.deepEqual(
        sim.comments(fullName, newer.number).map((c) => c.body),
        [`Closed as a duplicate of #${oldest.number}.`],
      );
    });

    test("a 502 on opening is not sent again, and a secondary rate limit is waited out", async () => {
      const marker = "<!-- ferry:drift:flaky -->";
      let from = sim.requests.length;
      sim.failNext({ method: "POST", pathPrefix: issuesPath }, [{ status: 502 }]);
      const failed = await ferryError(forge.ensureIssue(marker, "Drift in flaky", "1 field"));
      assert.deepEqual(
        [failed.kind, failed.message],
        ["transient", 'GitHub: opening issue "Drift in flaky": 502 Bad Gateway'],
      );
      assert.equal(requestsTo(from, "POST", issuesPath).length, 1, "GitHub may have opened it before failing");

      from = sim.requests.length;
      sim.failNext({ method: "POST", pathPrefix: issuesPath }, [
        { status: 403, headers: { "retry-after": "1" }, body: { message: secondaryRateLimit } },
      ]);
      assert.equal((await forge.ensureIssue(marker, "Drift in flaky", "1 field")).created, true);
      assert.deepEqual(
        requestsTo(from, "POST", issuesPath).map((r) => r.status),
        [403, 201],
      );
      assert.equal(issuesWith(marker).length, 1);
    });

    test("refusals are worded like other GitHub errors, naming what to fix", async () => {
      const tooLong = await ferryError(
        forge.ensureIssue("<!-- ferry:drift:big -->", "Drift in big", "x".repeat(forge.maxIssueBodyLength)),
      );
      assert.deepEqual(
        [tooLong.kind, tooLong.message],
        [
          "permanent",
          'GitHub: opening issue "Drift in big": 422 Validation Failed: body is too long (maximum is 65536 characters)',
        ],
      );
      const untitled = await ferryError(forge.ensureIssue("<!-- ferry:drift:untitled -->", "", "x"));
      assert.deepEqual(
        [untitled.kind, untitled.message],
        ["permanent", 'GitHub: opening issue "": 422 Validation Failed: missing_field'],
      );

      const elsewhere = new GitHubForge({
        octokit,
        repo: { forge: "github", fullName: "acme/missing", installationId: 1 },
        botLogin: sim.botLogin,
      });
      const missing = await ferryError(elsewhere.ensureIssue("<!-- ferry:drift:x -->", "Drift in x", "x"));
      assert.deepEqual(
        [missing.kind, missing.message],
        ["permanent", `GitHub: reading the open issues labelled ${ferryIssueLabel}: 404 Not Found`],
      );

      sim.addRepo("acme/quiet", git);
      sim.setIssuesEnabled("acme/quiet", false);
      const quiet = await githubForgeFactory(probot, { botLogin: sim.botLogin })({
        forge: "github",
        fullName: "acme/quiet",
        installationId: 1,
      });
      const disabled = await ferryError(quiet.ensureIssue("<!-- ferry:drift:x -->", "Drift in x", "x"));
      assert.deepEqual(
        [disabled.kind, disabled.message],
        [
          "permanent",
          `GitHub: opening issue "Drift in x": 410 Issues are disabled for this repo (turn Issues on in the repository's settings)`,
        ],
      );
    });

    test("an installation without issues: write is told which permission it lacks", async () => {
      sim.addRepo("acme/locked", git, { installationId: 2 });
      sim.setInstallationPermissions(2, { ...defaultInstallationPermissions, issues: "read" });
      const locked = await githubForgeFactory(probot, { botLogin: sim.botLogin })({
        forge: "github",
        fullName: "acme/locked",
        installationId: 2,
      });
      const hint = `(the GitHub App needs the "issues: write" permission: add it in the app's settings, then accept it on the installation)`;
      const opening = await ferryError(locked.ensureIssue("<!-- ferry:drift:x -->", "Drift in x", "x"));
      assert.deepEqual(
        [opening.kind, opening.message],
        ["permanent", `GitHub: opening issue "Drift in x": 403 Resource not accessible by integration ${hint}`],
      );

      const { issues: _issues, ...withoutIssues } = defaultInstallationPermissions;
      sim.setInstallationPermissions(2, withoutIssues);
      const reading = await ferryError(locked.closeIssue("<!-- ferry:drift:x -->", "Back in sync."));
      assert.deepEqual(
        [reading.kind, reading.message],
        [
          "permanent",
          `GitHub: reading the open issues labelled ${ferryIssueLabel}: 403 Resource not accessible by integration ${hint}`,
        ],
      );
      // Statuses need no issues permission.
      await locked.setStatus(mainSha, { context: "ferry/deploy/x", state: "success", description: "ok" });
    });
  });
});
