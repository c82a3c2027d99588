import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { Gitlab } from "@gitbeaker/rest";
import { GitRepo } from "./support/git-repo.js";
import { accessLevels, GitLabSimulator, type GitLabProjectRef } from "./support/gitlab-simulator.js";

const path = "acme/platform/deploy";
const encoded = encodeURIComponent(path);

/** The names of the entries in an uncompressed tarball (ustar names, with pax paths where used). */
function tarNames(tarball: Buffer): string[] {
  const names: string[] = [];
  for (let offset = 0; offset + 512 <= tarball.length;) {
    const header = tarball.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const text = (start: number, length: number): string =>
      header
        .subarray(start, start + length)
        .toString("utf8")
        .replace(/\0.*$/s, "");
    const size = Number.parseInt(text(124, 12).trim() || "0", 8);
    const prefix = text(345, 155);
    if (text(156, 1) === "0") names.push(prefix ? `${prefix}/${text(0, 100)}` : text(0, 100));
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return names;
}

describe("GitLabSimulator over HTTP", () => {
  let sim: GitLabSimulator;
  let git: GitRepo;
  let project: GitLabProjectRef;
  let api: InstanceType<typeof Gitlab>;
  let mainSha: string;
  let featureSha: string;
  let danglingSha: string;

  /** A raw API call as the bot, or as `token`. */
  const call = async (method: string, url: string, body?: Record<string, unknown>, token = sim.token) => {
    const response = await fetch(`${sim.apiUrl}${url}`, {
      method,
      headers: { "private-token": token, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      json: text === "" ? undefined : (JSON.parse(text) as unknown),
    };
  };
  const post = (sha: string, state: string, extra: Record<string, unknown> = {}, token?: string) =>
    call("POST", `/projects/${project.id}/statuses/${sha}`, { state, name: "ferry/deploy/staging", ...extra }, token);

  before(async () => {
    git = await GitRepo.create("deploy");
    await git.writeFiles({ "app.yaml": "kind: ConfigMap\n" });
    mainSha = await git.commit("initial");
    await git.branch("feature/x");
    await git.checkout("feature/x");
    await git.writeFiles({ "app.yaml": "kind: Secret\n" });
    featureSha = await git.commit("change");
    await git.checkout(mainSha);
    await git.writeFiles({ "loose.txt": "x\n" });
    danglingSha = await git.commit("on no branch");
    await git.checkout("main");
    sim = await GitLabSimulator.start({ botUsername: "project_7_bot_ab12" });
    project = sim.addProject(path, git, { id: 7 });
    api = new Gitlab({ host: sim.url, token: sim.token });
  });
  after(async () => {
    await sim.close();
    await git.dispose();
  });

  test("authenticates tokens by PRIVATE-TOKEN or Bearer and names the token's user", async () => {
    assert.deepEqual(project, { id: 7, path });
    const anonymous = await fetch(`${sim.apiUrl}/user`);
    assert.equal(anonymous.status, 401);
    assert.deepEqual(await anonymous.json(), { message: "401 Unauthorized" });
    const bearer = await fetch(`${sim.apiUrl}/user`, { headers: { authorization: `Bearer ${sim.token}` } });
    assert.equal(((await bearer.json()) as { username: string }).username, "project_7_bot_ab12");
    const me = await api.Users.showCurrentUser();
    assert.deepEqual([me.username, me.bot], ["project_7_bot_ab12", true]);
    assert.equal((await call("GET", "/user", undefined, "glpat-nope")).status, 401);
  });

  test("addresses projects by id or URL-encoded path, and hides unknown ones", async () => {
    const byPath = await api.Branches.show(path, "main");
    const byId = await api.Branches.show(7, "feature/x");
    assert.deepEqual(
      [byPath.commit.id, byPath.commit.title, byId.commit.id, byId.name],
      [mainSha, "initial", featureSha, "feature/x"],
    );
    assert.equal((await call("GET", `/projects/${encoded}/repository/branches/main`)).status, 200);
    assert.deepEqual((await call("GET", "/projects/999/repository/branches/main")).json, {
      message: "404 Project Not Found",
    });
    assert.deepEqual((await call("GET", `/projects/${encoded}/repository/branches/nope`)).json, {
      message: "404 Branch Not Found",
    });
    assert.throws(() => sim.addProject("acme/other", git, { id: 7 }), /taken/);
  });

  test("serves archives of real commits with GitLab's `<project>-<ref>-<sha>/` prefix", async () => {
    const bySha = await fetch(`${sim.apiUrl}/projects/7/repository/archive.tar.gz?sha=${featureSha}`, {
      headers: { "private-token": sim.token },
    });
    assert.equal(bySha.headers.get("content-type"), "application/octet-stream");
    assert.deepEqual(tarNames(gunzipSync(Buffer.from(await bySha.arrayBuffer()))), [
      `deploy-${featureSha}-${featureSha}/app.yaml`,
    ]);
    const byBranch = await fetch(`${sim.apiUrl}/projects/${encoded}/repository/archive?sha=feature%2Fx`, {
      headers: { "private-token": sim.token },
    });
    assert.deepEqual(tarNames(gunzipSync(Buffer.from(await byBranch.arrayBuffer()))), [
      `deploy-feature-x-${featureSha}/app.yaml`,
    ]);
    assert.equal((await call("GET", `/projects/7/repository/archive.tar.gz?sha=${"f".repeat(40)}`)).status, 404);
  });

  test("enforces GitLab's commit status state machine and records every refused transition", async () => {
    const cases: Array<[string, number, string | undefined]> = [
      ["pending", 201, "pending"],
      ["pending", 400, "Cannot transition status via :enqueue from :pending"],
      ["running", 201, "running"],
      ["running", 400, "Cannot transition status via :run from :running"],
      ["pending", 400, "Cannot transition status via :enqueue from :running"],
      ["success", 201, "success"],
      ["success", 201, "success"],
      ["pending", 201, "pending"],
      ["failed", 201, "failed"],
      ["running", 201, "running"],
      ["canceled", 201, "canceled"],
    ];
    const ids: number[] = [];
    // Posted without `ref`, a status goes to the first branch (by name) holding the commit, as GitLab does.
    for (const [state, status, outcome] of cases) {
      const res = await post(mainSha, state, { description: `to ${state}` });
      assert.equal(res.status, status, `${state} → ${status}`);
      if (status === 201) {
        const body = res.json as {
          id: number;
          status: string;
          description: string;
          ref: string;
          author: { username: string };
        };
        assert.deepEqual(
          [body.status, body.description, body.ref, body.author.username],
          [outcome, `to ${state}`, "feature/x", sim.botUsername],
        );
        ids.push(body.id);
      } else {
        assert.deepEqual(res.json, { message: outcome });
      }
    }
    // One status per run: pending → running → success in place, then each finished state starts anew.
    assert.deepEqual(
      ids.map((id) => ids.indexOf(id)),
      [0, 0, 0, 3, 4, 4, 6, 6],
    );
    assert.deepEqual(
      sim.stateMachineErrors.map((e) => [e.from, e.requested]),
      [
        ["pending", "pending"],
        ["running", "running"],
        ["running", "pending"],
      ],
    );
    assert.deepEqual(
      sim.statuses(path, mainSha).map((s) => s.status),
      ["pending", "running", "success", "success", "pending", "failed", "running", "canceled"],
    );
  });

  test("transitions only the poster's own status, accepts context for name, and checks what is posted", async () => {
    const alice = sim.tokenFor("alice");
    assert.equal((await post(featureSha, "pending", {}, alice)).status, 201);
    assert.equal((await post(featureSha, "pending")).status, 201, "another user's pending status is another status");
    const byContext = await call("POST", `/projects/7/statuses/${featureSha}`, {
      state: "success",
      context: "ci/other",
      target_url: "https://ci.example.com/1",
    });
    assert.deepEqual(
      [(byContext.json as { name: string }).name, (byContext.json as { target_url: string }).target_url],
      ["ci/other", "https://ci.example.com/1"],
    );
    const before = sim.stateMachineErrors.length;
    assert.deepEqual((await post(featureSha, "done")).json, { error: "state does not have a valid value" });
    assert.deepEqual((await post("f".repeat(40), "pending")).json, { message: "404 Commit Not Found" });
    assert.deepEqual((await post(danglingSha, "pending")).json, { message: "404 References for commit Not Found" });
    assert.equal((await post(danglingSha, "pending", { ref: "main" })).status, 201);
    assert.equal(sim.stateMachineErrors.length, before);
  });

  test("lists a commit's latest statuses (or all), filtered by name, paginated as gitbeaker reads them", async () => {
    const latest = await api.Commits.allStatuses(7, mainSha);
    assert.deepEqual(
      latest.map((s) => [s.name, s.status]),
      [["ferry/deploy/staging", "canceled"]],
    );
    const everything = await call("GET", `/projects/7/repository/commits/${mainSha}/statuses?all=true&per_page=2`);
    assert.deepEqual(
      ["x-total", "x-total-pages", "x-page", "x-next-page", "x-prev-page"].map((h) => everything.headers.get(h)),
      ["4", "2", "1", "2", ""],
    );
    assert.match(everything.headers.get("link") ?? "", /[?&]page=2>; rel="next"/);
    const all = await api.Commits.allStatuses(7, mainSha, { all: true, perPage: 2 } as { all: boolean });
    assert.equal(all.length, 4);
    assert.deepEqual(
      (await api.Commits.allStatuses(7, featureSha, { name: "ci/other" })).map((s) => s.name),
      ["ci/other"],
    );
  });

  test("serves merge requests, and the ones a commit belongs to", async () => {
    sim.addMergeRequest(path, {
      iid: 1,
      sourceBranch: "feature/x",
      targetBranch: "main",
      sha: featureSha,
      author: "alice",
    });
    sim.addMergeRequest(path, {
      iid: 2,
      sourceBranch: "fork-main",
      targetBranch: "main",
      sha: mainSha,
      author: "eve",
      fromFork: true,
      mergeCommitSha: danglingSha,
    });
    const mr = await api.MergeRequests.show(path, 1);
    assert.deepEqual(
      [mr.iid, mr.state, mr.sha, mr.target_branch, mr.source_project_id, mr.target_project_id, mr.author.username],
      [1, "opened", featureSha, "main", 7, 7, "alice"],
    );
    const merged = await api.MergeRequests.show(7, 2);
    assert.deepEqual(
      [merged.state, merged.merge_commit_sha, merged.source_project_id === merged.target_project_id],
      ["merged", danglingSha, false],
    );
    sim.updateMergeRequest(path, 1, { sha: mainSha, state: "closed" });
    assert.deepEqual(
      [(await api.MergeRequests.show(7, 1)).sha, (await api.MergeRequests.show(7, 1)).state],
      [mainSha, "closed"],
    );
    assert.deepEqual(
      (await api.Commits.allMergeRequests(7, danglingSha)).map((m) => m.iid),
      [2],
    );
    assert.deepEqual((await call("GET", "/projects/7/merge_requests/9")).json, {
      message: "404 Merge Request Not Found",
    });
  });

  test("creates, lists, pages and edits notes, with GitLab's 1,000,000 character limit", async () => {
    for (let i = 1; i <= 24; i++) sim.addNote(path, 1, { user: "alice", body: `note ${i}` });
    const created = await api.MergeRequestNotes.create(7, 1, "from the bot");
    assert.deepEqual([created.author.username, created.system, created.noteable_iid], [sim.botUsername, false, 1]);
    const firstPage = await call("GET", "/projects/7/merge_requests/1/notes?per_page=10");
    assert.deepEqual((firstPage.json as Array<{ body: string }>)[0]?.body, "from the bot", "newest first by default");
    assert.deepEqual(
      ["x-total", "x-total-pages", "x-next-page"].map((h) => firstPage.headers.get(h)),
      ["25", "3", "2"],
    );
    const oldestFirst = await api.MergeRequestNotes.all(7, 1, { sort: "asc", perPage: 10 });
    assert.deepEqual(
      [oldestFirst.length, oldestFirst[0]?.body, oldestFirst.at(-1)?.body],
      [25, "note 1", "from the bot"],
    );

    const edited = await api.MergeRequestNotes.edit(7, 1, created.id, { body: "x".repeat(1_000_000) });
    assert.equal(edited.body.length, 1_000_000);
    const tooLong = await call("PUT", `/projects/7/merge_requests/1/notes/${created.id}`, {
      body: "x".repeat(1_000_001),
    });
    assert.deepEqual(
      [tooLong.status, tooLong.json],
      [400, { message: { note: ["is too long (maximum is 1000000 characters)"] } }],
    );
    const alicesNote = sim.notes(path, 1)[0];
    assert.equal(
      (await call("PUT", `/projects/7/merge_requests/1/notes/${alicesNote?.id}`, { body: "hijack" })).status,
      403,
    );
    const record = sim.notes(path, 1).find((n) => n.id === created.id);
    assert.deepEqual([record?.author, record?.edits], [sim.botUsername, 1]);
    assert.throws(() => sim.addNote(path, 99, { user: "alice", body: "x" }), /not registered/);
  });

  test("awards emoji once per user and name, answering a repeat as GitLab does", async () => {
    const id = sim.addNote(path, 1, { user: "alice", body: "/ferry plan" });
    const award = await api.MergeRequestNoteAwardEmojis.award(7, 1, id, "eyes");
    assert.deepEqual([award.name, award.user.username, award.awardable_type], ["eyes", sim.botUsername, "Note"]);
    const again = await call("POST", `/projects/7/merge_requests/1/notes/${id}/award_emoji`, { name: "eyes" });
    assert.deepEqual(
      [again.status, again.json],
      [404, { message: "404 Award Emoji Name has already been taken Not Found" }],
    );
    assert.equal(
      (
        await call(
          "POST",
          `/projects/7/merge_requests/1/notes/${id}/award_emoji`,
          { name: "eyes" },
          sim.tokenFor("bob"),
        )
      ).status,
      201,
    );
    assert.deepEqual(
      sim
        .notes(path, 1)
        .find((n) => n.id === id)
        ?.awards.map((a) => [a.name, a.user]),
      [
        ["eyes", sim.botUsername],
        ["eyes", "bob"],
      ],
    );
  });

  test("opens, lists, edits and closes issues with notes, refusing what GitLab refuses", async () => {
    const opened = await api.Issues.create(7, "Drift in prod", { description: "x", labels: "drift,new-one" });
    assert.deepEqual(
      [opened.iid, opened.state, opened.author.username, opened.labels, opened.web_url],
      [1, "opened", sim.botUsername, ["drift", "new-one"], `${sim.url}/${path}/-/issues/1`],
    );
    const alices = sim.addIssue(path, { author: "alice", title: "Bug", labels: ["Drift"] });
    sim.addIssue(path, { author: "alice", title: "Old", labels: ["drift"], state: "closed" });
    assert.deepEqual(
      sim.labels(path),
      ["drift", "new-one"],
      "label names match case-insensitively; missing ones are created",
    );

    const iids = async (query: string) =>
      ((await call("GET", `/projects/7/issues?${query}`)).json as Array<{ iid: number }>).map((i) => i.iid);
    assert.deepEqual(await iids("labels=DRIFT"), [3, alices, 1], "every state, newest first, by default");
    assert.deepEqual(await iids("state=opened&labels=drift&sort=asc&order_by=created_at"), [1, alices]);
    assert.deepEqual(await iids(`state=opened&author_username=${sim.botUsername}`), [1]);
    assert.deepEqual(await iids("labels=drift,new-one"), [1]);
    const all = await api.Issues.all({
      projectId: 7,
      state: "opened",
      labels: "drift",
      authorUsername: "alice",
      perPage: 1,
    });
    assert.deepEqual(
      all.map((i) => i.iid),
      [alices],
    );
    assert.deepEqual((await call("GET", "/projects/7/issues?author_id=1&author_username=alice")).status, 400);

    const note = await api.IssueNotes.create(7, 1, "back in sync");
    assert.deepEqual([note.noteable_type, note.author.username], ["Issue", sim.botUsername]);
    const closed = await api.Issues.edit(7, 1, { stateEvent: "close" });
    const again = await api.Issues.edit(7, 1, { stateEvent: "close" });
    assert.deepEqual(
      [closed.state, again.state, (closed.closed_by as unknown as { username: string } | null)?.username],
      ["closed", "closed", sim.botUsername],
    );
    assert.deepEqual(
      sim.issueNotes(path, 1).map((n) => n.body),
      ["back in sync"],
    );
    assert.deepEqual(sim.issues(path).find((i) => i.iid === 1)?.edits, 0, "closing is no edit");

    assert.deepEqual(
      await call("POST", "/projects/7/issues", { description: "no title" }).then((r) => [r.status, r.json]),
      [400, { error: "title is missing" }],
    );
    assert.deepEqual((await call("POST", "/projects/7/issues", { title: " " })).json, {
      message: { title: ["can't be blank"] },
    });
    assert.deepEqual((await call("POST", "/projects/7/issues", { title: "x".repeat(256) })).json, {
      message: { title: ["is too long (maximum is 255 characters)"] },
    });
    // 1 MiB in bytes: 349,526 euro signs are 1,048,578 bytes.
    assert.deepEqual(
      (await call("POST", "/projects/7/issues", { title: "big", description: "€".repeat(349_526) })).json,
      {
        message: { description: ["is too long (maximum is 1048576 characters)"] },
      },
    );
    assert.equal(
      (await call("POST", "/projects/7/issues", { title: "fits", description: "y".repeat(1_048_576) })).status,
      201,
    );
    assert.deepEqual(await call("PUT", "/projects/7/issues/99", { title: "x" }).then((r) => [r.status, r.json]), [
      404,
      { message: "404 Not found" },
    ]);
    assert.equal(await call("PUT", "/projects/7/issues/1", {}).then((r) => r.status), 400);
    assert.deepEqual(await call("POST", "/projects/99/issues", { title: "x" }).then((r) => [r.status, r.json]), [
      404,
      { message: "404 Project Not Found" },
    ]);
    assert.equal(
      (await call("PUT", `/projects/7/issues/${alices}`, { title: "hijack" }, sim.tokenFor("guest"))).status,
      403,
    );
  });

  test("finds users by username and reports members' access levels", async () => {
    sim.setAccessLevel(path, "dora", accessLevels.developer);
    const [dora] = await api.Users.all({ username: "dora" });
    assert.equal(dora?.username, "dora");
    assert.deepEqual(await api.Users.all({ username: "ghost" }), []);
    const member = await api.ProjectMembers.show(7, dora?.id ?? 0, { includeInherited: true });
    assert.equal(member.access_level, 30);
    sim.setAccessLevel(path, "dora", accessLevels.none);
    assert.deepEqual((await call("GET", `/projects/7/members/all/${dora?.id}`)).json, { message: "404 Not found" });
  });

  test("injects faults before authentication and records requests, including unhandled ones", async () => {
    sim.failNext({ method: "GET", pathPrefix: "/projects/7/repository/branches" }, [
      { status: 503 },
      { status: 429, headers: { "retry-after": "3" }, body: { message: "Retry later" } },
    ]);
    const first = await call("GET", "/projects/7/repository/branches/main", undefined, "not-even-a-token");
    const second = await call("GET", "/projects/7/repository/branches/main");
    const third = await call("GET", "/projects/7/repository/branches/main");
    assert.deepEqual([first.status, first.json], [503, { message: "503 Service Unavailable" }]);
    assert.deepEqual(
      [second.status, second.headers.get("retry-after"), second.json],
      [429, "3", { message: "Retry later" }],
    );
    assert.equal(third.status, 200);
    assert.deepEqual(
      sim.requests.slice(-3).map((r) => [r.status, r.injected]),
      [
        [503, true],
        [429, true],
        [200, false],
      ],
    );
    assert.equal((await call("GET", "/projects/7/pipelines")).status, 404);
    assert.deepEqual(sim.unhandled, [{ method: "GET", path: "/api/v4/projects/7/pipelines" }]);
  });
});
