import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { Gitlab } from "@gitbeaker/rest";
import { createDeployRepo } from "../../../test/support/deploy-repo.js";
import { ferryError } from "../../../test/support/ferry-error.js";
import type { GitRepo } from "../../../test/support/git-repo.js";
import { accessLevels, GitLabSimulator, type GitLabProjectRef } from "../../../test/support/gitlab-simulator.js";
import { untarGz } from "../../../test/support/untar-gz.js";
import { ferryIssueLabel, type Forge } from "../types.js";
import type { RepoRef } from "../../domain/repo.js";
import { GitLabForge } from "./gitlab-forge.js";
import { gitlabForgeFactory } from "./gitlab-forge-factory.js";

const path = "acme/deploy";

describe("GitLabForge against the GitLab simulator", () => {
  let sim: GitLabSimulator;
  let git: GitRepo;
  let project: GitLabProjectRef;
  let repo: RepoRef;
  let forge: Forge;
  let mainSha: string;
  let featureSha: string;
  let mergeSha: string;

  /** Requests to paths under `/api/v4` + `suffix` since `from`. */
  const requestsTo = (from: number, method: string, suffix: string) =>
    sim.requests.slice(from).filter((r) => r.method === method && r.path.startsWith(`/api/v4${suffix}`));

  before(async () => {
    ({ git, mainSha, featureSha, mergeSha } = await createDeployRepo("Merge branch 'feature/x' into 'main'"));
    sim = await GitLabSimulator.start();
    project = sim.addProject(path, git);
    repo = { forge: "gitlab", fullName: path, projectId: project.id };
    forge = await gitlabForgeFactory({ url: sim.url, token: sim.token, retry: { backoffMs: 10 } })(repo);
  });
  after(async () => {
    assert.deepEqual(sim.unhandled, []);
    await sim.close();
    await git.dispose();
  });

  test("reads branch heads, by project id or by path, with slashes in the branch name", async () => {
    assert.equal(await forge.branchHead("main"), mergeSha);
    assert.equal(await forge.branchHead("feature/x"), featureSha);
    const byPath = await gitlabForgeFactory({ url: `${sim.url}/`, token: sim.token })({
      forge: "gitlab",
      fullName: path,
    });
    assert.equal(await byPath.branchHead("main"), mergeSha);
    const missing = await ferryError(forge.branchHead("nope"));
    assert.deepEqual(
      [missing.kind, missing.message],
      ["permanent", "GitLab: reading branch nope: 404 Branch Not Found"],
    );
  });

  test("streams the archive of a commit under GitLab's `<project>-<sha>-<sha>/` prefix", async () => {
    const files = await untarGz(await forge.downloadArchive(featureSha));
    const prefix = `deploy-${featureSha}-${featureSha}`;
    assert.deepEqual(Object.fromEntries(files), {
      [`${prefix}/README.md`]: "hello\n",
      [`${prefix}/envs/staging/app.yaml`]: "kind: Secret\n",
    });
    const missing = await ferryError(forge.downloadArchive("f".repeat(40)));
    assert.deepEqual(
      [missing.kind, missing.message],
      ["permanent", `GitLab: downloading the archive of fffffff: 404 File Not Found`],
    );
  });

  test("a release drives pending → running → success with no refused transition, skipping repeats", async () => {
    const context = "ferry/deploy/staging";
    const from = sim.requests.length;
    await forge.setStatus(mergeSha, { context, state: "pending", description: "queued" });
    await forge.setStatus(mergeSha, { context, state: "pending", description: "retrying (attempt 2/8)" });
    await forge.setStatus(mergeSha, { context, state: "running", description: "deploying to staging" });
    await forge.setStatus(mergeSha, { context, state: "running", description: "deploying to staging" });
    await forge.setStatus(mergeSha, { context, state: "pending", description: "retrying (attempt 3/8)" });
    await forge.setStatus(mergeSha, {
      context,
      state: "success",
      description: "deployed: 3 applied",
      targetUrl: "https://ferry.example.com/r/1",
    });
    await forge.setStatus(mergeSha, {
      context,
      state: "success",
      description: "deployed: 3 applied",
      targetUrl: "https://ferry.example.com/r/1",
    });
    assert.deepEqual(sim.stateMachineErrors, []);
    const posted = sim.statuses(path, mergeSha);
    assert.deepEqual(
      posted.map((s) => [s.name, s.status, s.description, s.targetUrl, s.ref, s.author]),
      [
        [context, "pending", "queued", null, "main", sim.botUsername],
        [context, "running", "deploying to staging", null, "main", sim.botUsername],
        [context, "success", "deployed: 3 applied", "https://ferry.example.com/r/1", "main", sim.botUsername],
      ],
    );
    // GitLab transitions the one status in place while it is pending or running.
    assert.equal(new Set(posted.map((s) => s.id)).size, 1);
    assert.equal(requestsTo(from, "POST", `/projects/${project.id}/statuses/`).length, 3);
  });

  test("a finished status starts a new one: a second release, a changed result, a failure", async () => {
    const context = "ferry/plan/staging";
    await forge.setStatus(featureSha, { context, state: "pending", description: "planning" });
    await forge.setStatus(featureSha, { context, state: "success", description: "1 to change" });
    await forge.setStatus(featureSha, { context, state: "success", description: "2 to change" });
    await forge.setStatus(featureSha, { context, state: "pending", description: "planning" });
    await forge.setStatus(featureSha, { context, state: "failure", description: "x".repeat(300) });
    await forge.setStatus(featureSha, { context: "ferry/plan/production", state: "running", description: "planning" });
    assert.deepEqual(sim.stateMachineErrors, []);
    const posted = sim.statuses(path, featureSha);
    assert.deepEqual(
      posted.map((s) => [s.name, s.status]),
      [
        [context, "pending"],
        [context, "success"],
        [context, "success"],
        [context, "pending"],
        [context, "failed"],
        ["ferry/plan/production", "running"],
      ],
    );
    assert.equal(posted[4]?.description?.length, 255);
    assert.ok(posted[4]?.description?.endsWith("…"));
    assert.equal(new Set(posted.slice(0, 5).map((s) => s.id)).size, 3);
  });

  test("a status moved by another worker between read and post settles without an error", async () => {
    const context = "ferry/deploy/race";
    await forge.setStatus(mainSha, { context, state: "pending", description: "queued" });
    const refusedBefore = sim.stateMachineErrors.length;
    // This worker's read sees no status yet, so it posts pending onto the pending one and GitLab refuses.
    sim.failNext({ method: "GET", pathPrefix: `/projects/${project.id}/repository/commits/${mainSha}/statuses` }, [
      { status: 200, body: [] },
    ]);
    await forge.setStatus(mainSha, { context, state: "pending", description: "queued" });
    assert.deepEqual(
      sim.stateMachineErrors.slice(refusedBefore).map((e) => [e.name, e.from, e.requested, e.message]),
      [[context, "pending", "pending", "Cannot transition status via :enqueue from :pending"]],
    );
  });

  test("finds the merge requests merged as a commit: merge commit, squash commit or fast-forward head", async () => {
    sim.addMergeRequest(path, {
      iid: 3,
      sourceBranch: "feature/x",
      targetBranch: "main",
      sha: featureSha,
      author: "alice",
      mergeCommitSha: mergeSha,
    });
    sim.addMergeRequest(path, {
      iid: 4,
      sourceBranch: "feature/x",
      targetBranch: "main",
      sha: featureSha,
      author: "bob",
    });
    sim.addMergeRequest(path, {
      iid: 5,
      sourceBranch: "hotfix",
      targetBranch: "main",
      sha: mainSha,
      author: "carol",
      state: "merged",
    });
    assert.deepEqual(await forge.changesMergedAs(mergeSha), [3]);
    assert.deepEqual(await forge.changesMergedAs(featureSha), []);
    assert.deepEqual(await forge.changesMergedAs(mainSha), [5]);
  });

  test("keeps one sticky note per marker, written by Ferry's user, found past the first page", async () => {
    sim.addMergeRequest(path, {
      iid: 7,
      sourceBranch: "feature/x",
      targetBranch: "main",
      sha: featureSha,
      author: "alice",
    });
    sim.addNote(path, 7, { user: "mallory", body: "<!-- ferry:plan -->\nnot Ferry's" });
    for (let i = 0; i < 105; i++) sim.addNote(path, 7, { user: "alice", body: `note ${i}` });
    sim.addNote(path, 7, { user: sim.botUsername, body: "<!-- ferry:plan -->\nold plan" });
    const from = sim.requests.length;
    await forge.ensureComment(7, "<!-- ferry:plan -->", "<!-- ferry:plan -->\nnew plan");
    await forge.ensureComment(7, "<!-- ferry:plan -->", "<!-- ferry:plan -->\nnew plan");
    await forge.ensureComment(7, "<!-- ferry:result abc -->", "deployed");
    const notes = sim.notes(path, 7).filter((n) => n.body.includes("<!-- ferry:"));
    assert.deepEqual(
      notes.map((n) => [n.author, n.body, n.edits]),
      [
        ["mallory", "<!-- ferry:plan -->\nnot Ferry's", 0],
        [sim.botUsername, "<!-- ferry:plan -->\nnew plan", 1],
        [sim.botUsername, "<!-- ferry:result abc -->\ndeployed", 0],
      ],
    );
    assert.equal(requestsTo(from, "PUT", `/projects/${project.id}/merge_requests/7/notes/`).length, 1);
    assert.ok(
      requestsTo(from, "GET", `/projects/${project.id}/merge_requests/7/notes`).length >= 4,
      "read page by page",
    );
  });

  test("adds notes up to GitLab's 1,000,000 characters and reports longer ones", async () => {
    assert.equal(forge.maxCommentLength, 1_000_000);
    await forge.createComment(7, "y".repeat(1_000_000));
    const tooLong = await ferryError(forge.createComment(7, "y".repeat(1_000_001)));
    assert.deepEqual(
      [tooLong.kind, tooLong.message],
      ["permanent", "GitLab: commenting on !7: 400 note is too long (maximum is 1000000 characters)"],
    );
    const missing = await ferryError(forge.createComment(99, "hi"));
    assert.deepEqual(
      [missing.kind, missing.message],
      ["permanent", "GitLab: commenting on !99: 404 Merge Request Not Found"],
    );
  });

  test("maps members' access levels: Developer and above write, Maintainer and Owner admin", async () => {
    const levels = {
      guest: accessLevels.guest,
      reporter: accessLevels.reporter,
      developer: accessLevels.developer,
      maintainer: accessLevels.maintainer,
      owner: accessLevels.owner,
    };
    for (const [user, level] of Object.entries(levels)) sim.setAccessLevel(path, user, level);
    sim.addUser("outsider");
    const users = ["guest", "reporter", "developer", "maintainer", "owner", "outsider", "nobody-at-all"];
    const seen = Object.fromEntries(
      await Promise.all(users.map(async (u): Promise<[string, string]> => [u, await forge.accessLevel(u)])),
    );
    assert.deepEqual(seen, {
      guest: "read",
      reporter: "read",
      developer: "write",
      maintainer: "admin",
      owner: "admin",
      outsider: "none",
      "nobody-at-all": "none",
    });
    sim.setAccessLevel(path, "developer", accessLevels.none);
    assert.equal(await forge.accessLevel("developer"), "none");
  });

  test("lists the open merge requests into a branch, newest first, past the first page of 100", async () => {
    for (let iid = 700; iid < 802; iid++)
      sim.addMergeRequest(path, {
        iid,
        sourceBranch: `f-${iid}`,
        targetBranch: "release/v9",
        sha: featureSha,
        author: "alice",
      });
    sim.addMergeRequest(path, {
      iid: 802,
      sourceBranch: "x",
      targetBranch: "release/v9",
      sha: mainSha,
      author: "eve",
      fromFork: true,
    });
    sim.addMergeRequest(path, {
      iid: 803,
      sourceBranch: "done",
      targetBranch: "release/v9",
      sha: featureSha,
      author: "bob",
      mergeCommitSha: mergeSha,
    });
    sim.addMergeRequest(path, {
      iid: 804,
      sourceBranch: "gone",
      targetBranch: "release/v9",
      sha: featureSha,
      author: "bob",
      state: "closed",
    });
    sim.addMergeRequest(path, {
      iid: 805,
      sourceBranch: "other",
      targetBranch: "main",
      sha: featureSha,
      author: "bob",
    });
    const open = await forge.openChanges("release/v9");
    assert.equal(open.length, 103);
    assert.deepEqual(open[0], { number: 802, headSha: mainSha, fromFork: true, author: "eve" });
    assert.deepEqual(open[1], { number: 801, headSha: featureSha, fromFork: false, author: "alice" });
    assert.equal(open.at(-1)?.number, 700);
  });

  test("reads a merge request's head, target, state and fork", async () => {
    assert.deepEqual(await forge.changeHead(7), { sha: featureSha, baseBranch: "main", open: true, fromFork: false });
    assert.deepEqual(await forge.changeHead(3), { sha: featureSha, baseBranch: "main", open: false, fromFork: false });
    sim.addMergeRequest(path, {
      iid: 8,
      sourceBranch: "main",
      targetBranch: "main",
      sha: mainSha,
      author: "eve",
      fromFork: true,
    });
    assert.deepEqual(await forge.changeHead(8), { sha: mainSha, baseBranch: "main", open: true, fromFork: true });
    sim.updateMergeRequest(path, 8, { state: "closed" });
    assert.equal((await forge.changeHead(8)).open, false);
    const missing = await ferryError(forge.changeHead(404));
    assert.deepEqual(
      [missing.kind, missing.message],
      ["permanent", "GitLab: reading merge request !404: 404 Merge Request Not Found"],
    );
  });

  test("awards emoji to a person's note once however often it is repeated", async () => {
    const id = sim.addNote(path, 7, { user: "alice", body: "/ferry plan staging" });
    await forge.react(7, id, "eyes");
    await forge.react(7, id, "eyes");
    await forge.react(7, id, "+1");
    await forge.react(7, id, "-1");
    const note = sim.notes(path, 7).find((n) => n.id === id);
    assert.deepEqual(
      note?.awards.map((a) => [a.name, a.user]),
      [
        ["eyes", sim.botUsername],
        ["thumbsup", sim.botUsername],
        ["thumbsdown", sim.botUsername],
      ],
    );
    const missing = await ferryError(forge.react(7, 1, "eyes"));
    assert.deepEqual(
      [missing.kind, missing.message],
      ["permanent", "GitLab: awarding eyes to note 1 on !7: 404 Note Not Found"],
    );
  });

  test("429s wait as Retry-After asks and 5xx of reads are retried; writes failing with 5xx, and other 4xx, fail", async () => {
    const branch = `/projects/${project.id}/repository/branches/main`;
    let from = sim.requests.length;
    sim.failNext({ method: "GET", pathPrefix: branch }, [
      { status: 502 },
      { status: 429, headers: { "retry-after": "1" } },
      { status: 503 },
    ]);
    assert.equal(await forge.branchHead("main"), mergeSha);
    const sent = requestsTo(from, "GET", branch);
    assert.deepEqual(
      sent.map((r) => [r.status, r.injected]),
      [
        [502, true],
        [429, true],
        [503, true],
        [200, false],
      ],
    );
    assert.ok((sent[2]?.at ?? 0) - (sent[1]?.at ?? 0) >= 1000, "waited the second Retry-After asked for");

    from = sim.requests.length;
    sim.failNext(
      { method: "GET", pathPrefix: branch },
      Array.from({ length: 5 }, () => ({ status: 503 })),
    );
    const unavailable = await ferryError(forge.branchHead("main"));
    assert.deepEqual(
      [unavailable.kind, unavailable.message],
      ["transient", "GitLab: reading branch main: 503 Service Unavailable"],
    );
    assert.equal(requestsTo(from, "GET", branch).length, 5, "five attempts");

    const notes = `/projects/${project.id}/merge_requests/7/notes`;
    from = sim.requests.length;
    sim.failNext({ method: "POST", pathPrefix: notes }, [{ status: 502 }]);
    const written = await ferryError(forge.createComment(7, "hello"));
    assert.deepEqual([written.kind, written.message], ["transient", "GitLab: commenting on !7: 502 Bad Gateway"]);
    assert.equal(
      requestsTo(from, "POST", notes).length,
      1,
      "a POST that failed with 5xx is not sent again (GitLab may have acted on it)",
    );

    sim.failNext({ method: "GET", pathPrefix: branch }, [{ status: 429, headers: { "retry-after": "3600" } }]);
    const limited = await ferryError(forge.branchHead("main"));
    assert.deepEqual(
      [limited.kind, limited.message],
      ["transient", "GitLab: reading branch main: 429 Too Many Requests (GitLab asks to retry in 3600 s)"],
    );

    sim.failNext({ method: "GET", pathPrefix: branch }, [{ status: 403, body: { message: "403 Forbidden" } }]);
    const forbidden = await ferryError(forge.branchHead("main"));
    assert.deepEqual([forbidden.kind, forbidden.message], ["permanent", "GitLab: reading branch main: 403 Forbidden"]);

    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const unreachable = new GitLabForge({
      api: new Gitlab({ host: `http://127.0.0.1:${port}`, token: "t" }),
      repo,
      botUsername: "ferry-bot",
    });
    const down = await ferryError(unreachable.branchHead("main"));
    assert.equal(down.kind, "transient");
    assert.match(down.message, /^GitLab: reading branch main: network error: fetch failed \(connect ECONNREFUSED/);
  });

  test("the factory looks the token's user up once, retries a failed lookup, and refuses other forges", async () => {
    const factory = gitlabForgeFactory({ url: sim.url, token: sim.token, retry: { backoffMs: 10, attempts: 2 } });
    const from = sim.requests.length;
    sim.failNext({ method: "GET", pathPrefix: "/user" }, [{ status: 500 }, { status: 500 }]);
    const failed = await ferryError(factory(repo));
    assert.deepEqual(
      [failed.kind, failed.message],
      ["transient", "GitLab: reading the token's user: 500 Internal Server Error"],
    );
    await factory(repo);
    await factory({ forge: "gitlab", fullName: path });
    assert.equal(requestsTo(from, "GET", "/user").filter((r) => !r.path.startsWith("/api/v4/users")).length, 3);
    const github = await ferryError(factory({ forge: "github", fullName: "acme/deploy" }));
    assert.deepEqual(
      [github.kind, github.message],
      ["permanent", "GitLab: cannot act on a github repository (acme/deploy)"],
    );
    const badToken = await ferryError(gitlabForgeFactory({ url: sim.url, token: "glpat-wrong" })(repo));
    assert.deepEqual(
      [badToken.kind, badToken.message],
      ["permanent", "GitLab: reading the token's user: 401 Unauthorized"],
    );
  });

  describe("drift issues", () => {
    /** Issues holding `marker`, as the simulator has them. */
    const issuesWith = (marker: string) => sim.issues(path).filter((i) => i.description?.includes(marker) === true);
    const issuesPath = () => `/projects/${project.id}/issues`;

    test("ensureIssue opens the issue once, labelled, then edits it in place, and sends nothing when unchanged", async () => {
      const marker = "<!-- ferry:drift:staging -->";
      const opened = await forge.ensureIssue(marker, "Drift in staging", "spec.replicas: 3 → 5");
      assert.equal(opened.created, true);
      assert.equal(opened.url, `${sim.url}/${path}/-/issues/${opened.number}`);

      let from = sim.requests.length;
      assert.deepEqual(await forge.ensureIssue(marker, "Drift in staging", "spec.replicas: 3 → 5"), {
        ...opened,
        created: false,
      });
      assert.deepEqual([...requestsTo(from, "POST", "/projects/"), ...requestsTo(from, "PUT", "/projects/")], []);
      const listed = requestsTo(from, "GET", issuesPath());
      assert.equal(listed.length, 1, "one filtered list");

      from = sim.requests.length;
      await forge.ensureIssue(marker, "Drift in staging", "spec.replicas: 3 → 6");
      await forge.ensureIssue(marker, "Drift in staging (2 objects)", "spec.replicas: 3 → 6");
      assert.equal(requestsTo(from, "PUT", `${issuesPath()}/${opened.number}`).length, 2);
      assert.deepEqual(
        issuesWith(marker).map((i) => [i.iid, i.title, i.description, i.author, i.state, i.labels, i.edits]),
        [
          [
            opened.number,
            "Drift in staging (2 objects)",
            `${marker}\nspec.replicas: 3 → 6`,
            sim.botUsername,
            "opened",
            [ferryIssueLabel],
            2,
          ],
        ],
      );
      assert.ok(sim.labels(path).includes(ferryIssueLabel), "GitLab created the label with the first issue");
    });

    test("ensureIssue never takes an issue by someone else, or one whose label was removed", async () => {
      const marker = "<!-- ferry:drift:canary -->";
      const mallory = sim.addIssue(path, {
        author: "mallory",
        title: "Drift in canary",
        description: `${marker}\nfake`,
        labels: [ferryIssueLabel],
      });
      const unlabelled = sim.addIssue(path, {
        author: sim.botUsername,
        title: "Drift in canary",
        description: `${marker}\nold`,
      });
      const ensured = await forge.ensureIssue(marker, "Drift in canary", "1 field");
      assert.equal(ensured.created, true);
      assert.ok(![mallory, unlabelled].includes(ensured.number));
      assert.equal(await forge.closeIssue(marker, "Back in sync."), true);
      assert.deepEqual(
        sim
          .issues(path)
          .filter((i) => [mallory, unlabelled].includes(i.iid))
          .map((i) => [i.state, i.edits]),
        [
          ["opened", 0],
          ["opened", 0],
        ],
      );
      assert.deepEqual(
        [mallory, unlabelled].map((iid) => sim.issueNotes(path, iid).length),
        [0, 0],
      );
    });

    test("closeIssue comments and closes, is false when none is open, and new drift opens a new issue", async () => {
      const marker = "<!-- ferry:drift:production -->";
      assert.equal(await forge.closeIssue(marker, "Back in sync."), false);
      const first = await forge.ensureIssue(marker, "Drift in production", "data.key changed");
      assert.equal(await forge.closeIssue(marker, "Back in sync at abc1234."), true);
      const closed = sim.issues(path).find((i) => i.iid === first.number);
      assert.deepEqual([closed?.state, closed?.closedBy], ["closed", sim.botUsername]);
      assert.deepEqual(
        sim.issueNotes(path, first.number).map((n) => [n.author, n.body]),
        [[sim.botUsername, "Back in sync at abc1234."]],
      );

      const from = sim.requests.length;
      assert.equal(await forge.closeIssue(marker, "Back in sync at abc1234."), false);
      assert.deepEqual([...requestsTo(from, "POST", "/projects/"), ...requestsTo(from, "PUT", "/projects/")], []);

      const second = await forge.ensureIssue(marker, "Drift in production", "data.key changed again");
      assert.equal(second.created, true);
      assert.deepEqual(
        issuesWith(marker).map((i) => [i.iid, i.state]),
        [
          [first.number, "closed"],
          [second.number, "opened"],
        ],
      );
    });

    test("a closeIssue retried after the close failed notes once; a 502 on opening is not sent again", async () => {
      const marker = "<!-- ferry:drift:retry -->";
      let from = sim.requests.length;
      sim.failNext({ method: "POST", pathPrefix: issuesPath() }, [{ status: 502 }]);
      const failed = await ferryError(forge.ensureIssue(marker, "Drift in retry", "1 field"));
      assert.deepEqual(
        [failed.kind, failed.message],
        ["transient", 'GitLab: opening issue "Drift in retry": 502 Bad Gateway'],
      );
      assert.equal(requestsTo(from, "POST", issuesPath()).length, 1, "GitLab may have opened it before failing");

      const { number } = await forge.ensureIssue(marker, "Drift in retry", "1 field");
      from = sim.requests.length;
      sim.failNext(
        { method: "PUT", pathPrefix: `${issuesPath()}/${number}` },
        Array.from({ length: 5 }, () => ({ status: 500 })),
      );
      const closing = await ferryError(forge.closeIssue(marker, "Back in sync."));
      assert.deepEqual(
        [closing.kind, closing.message],
        ["transient", `GitLab: closing issue #${number}: 500 Internal Server Error`],
      );
      assert.equal(
        requestsTo(from, "PUT", `${issuesPath()}/${number}`).length,
        5,
        "a PUT is safe to repeat, so it was retried",
      );
      assert.equal(await forge.closeIssue(marker, "Back in sync."), true);
      assert.deepEqual(
        sim.issueNotes(path, number).map((n) => n.body),
        ["Back in sync."],
      );
    });

    test("issues that raced in are closed as duplicates of the oldest, which is kept", async () => {
      const marker = "<!-- ferry:drift:race -->";
      const api = new Gitlab({ host: sim.url, token: sim.token });
      const oldest = await api.Issues.create(project.id, "Drift in race", {
        description: `${marker}\nx`,
        labels: ferryIssueLabel,
      });
      const newer = await api.Issues.create(project.id, "Drift in race", {
        description: `${marker}\nx`,
        labels: ferryIssueLabel,
      });
      const ensured = await forge.ensureIssue(marker, "Drift in race", "x");
      assert.deepEqual([ensured.number, ensured.created], [oldest.iid, false]);
      assert.deepEqual(
        issuesWith(marker).map((i) => [i.iid, i.state]),
        [
          [oldest.iid, "opened"],
          [newer.iid, "closed"],
        ],
      );
      assert.deepEqual(
        sim.issueNotes(path, newer.iid).map((n) => n.body),
        [`Closed as a duplicate of #${oldest.iid}.`],
      );
    });

    test("takes descriptions up to maxIssueBodyLength of any characters; GitLab's refusals read like other GitLab errors", async () => {
      const marker = "<!-- ferry:drift:big -->";
      // Three UTF-8 bytes each: the most a JavaScript character takes.
      const widest = "€".repeat(forge.maxIssueBodyLength - marker.length - 1);
      assert.equal((await forge.ensureIssue(marker, "Drift in big", widest)).created, true);
      const tooLong = await ferryError(
        forge.ensureIssue("<!-- ferry:drift:bigger -->", "Drift in bigger", "y".repeat(1_048_576)),
      );
      assert.deepEqual(
        [tooLong.kind, tooLong.message],
        [
          "permanent",
          'GitLab: opening issue "Drift in bigger": 400 description is too long (maximum is 1048576 characters)',
        ],
      );
      const untitled = await ferryError(forge.ensureIssue("<!-- ferry:drift:untitled -->", "", "x"));
      assert.deepEqual(
        [untitled.kind, untitled.message],
        ["permanent", `GitLab: opening issue "": 400 title can't be blank`],
      );
      const elsewhere = new GitLabForge({
        api: new Gitlab({ host: sim.url, token: sim.token }),
        repo: { forge: "gitlab", fullName: "acme/missing" },
        botUsername: sim.botUsername,
      });
      const missing = await ferryError(elsewhere.ensureIssue("<!-- ferry:drift:x -->", "Drift in x", "x"));
      assert.deepEqual(
        [missing.kind, missing.message],
        ["permanent", `GitLab: reading the open issues labelled ${ferryIssueLabel}: 404 Project Not Found`],
      );
    });
  });
});
