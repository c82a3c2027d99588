import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createDeployRepo } from "../../../test/support/deploy-repo.js";
import type { GitRepo } from "../../../test/support/git-repo.js";
import { GitLabSimulator } from "../../../test/support/gitlab-simulator.js";
import { revertConflictMessage } from "../../../test/support/gitlab-simulator/revert-routes.js";
import type { RepoRef } from "../../domain/repo.js";
import type { Forge, MergedChange } from "../types.js";
import { gitlabForgeFactory } from "./gitlab-forge-factory.js";

const path = "acme/revert";
const marker = "<!-- ferry:revert-of:3 -->";

describe("GitLabForge reverts against the GitLab simulator", () => {
  let sim: GitLabSimulator;
  let git: GitRepo;
  let forge: Forge;
  let mergeSha: string;
  let featureSha: string;

  before(async () => {
    ({ git, mergeSha, featureSha } = await createDeployRepo("Merge branch 'feature/x' into 'main'"));
    sim = await GitLabSimulator.start();
    const project = sim.addProject(path, git);
    sim.addMergeRequest(path, {
      iid: 3,
      sourceBranch: "feature/x",
      targetBranch: "main",
      sha: featureSha,
      author: "dev",
      title: "Use a Secret",
      mergeCommitSha: mergeSha,
    });
    sim.addMergeRequest(path, {
      iid: 4,
      sourceBranch: "feature/y",
      targetBranch: "main",
      sha: featureSha,
      author: "dev",
    });
    const repo: RepoRef = { forge: "gitlab", fullName: path, projectId: project.id };
    forge = await gitlabForgeFactory({ url: sim.url, token: sim.token, retry: { backoffMs: 10 } })(repo);
  });
  after(async () => {
    assert.deepEqual(sim.unhandled, []);
    await sim.close();
    await git.dispose();
  });

  test("reads a merged merge request with the commit it left on its target, and nothing for an open one", async () => {
    assert.deepEqual(await forge.mergedChange(3), {
      number: 3,
      title: "Use a Secret",
      baseBranch: "main",
      mergeSha,
      url: `${sim.url}/${path}/-/merge_requests/3`,
    });
    assert.equal(await forge.mergedChange(4), undefined);
  });

  test("reverts the merge commit onto ferry/revert-<iid> and opens a merge request; asked again, it finds that one", async () => {
    const change = (await forge.mergedChange(3)) as MergedChange;
    const request = { title: 'Revert "Use a Secret"', body: `Reverts !3\n\n${marker}`, marker };
    const revert = await forge.revertChange(change, request);
    assert.ok(!("refused" in revert));
    assert.deepEqual([revert.branch, revert.created], ["ferry/revert-3", true]);
    const mr = sim.mergeRequest(path, revert.number);
    assert.deepEqual(
      [mr?.author, mr?.title, mr?.description, mr?.sha, mr?.sourceBranch, mr?.targetBranch],
      [sim.botUsername, request.title, request.body, revert.headSha, "ferry/revert-3", "main"],
    );
    assert.deepEqual(await git.parents(revert.headSha), [mergeSha]);
    assert.equal(
      await git.resolve(`${revert.headSha}:envs/staging/app.yaml`),
      await git.resolve(`${mergeSha}^1:envs/staging/app.yaml`),
    );
    const posts = () => sim.requests.filter((r) => r.method === "POST" && r.path.endsWith("/revert")).length;
    const before = posts();
    assert.deepEqual(await forge.revertChange(change, request), { ...revert, created: false });
    assert.equal(posts(), before, "no second revert");
  });

  test("a branch an earlier attempt left with the revert on it is used as it is, not reverted again", async () => {
    sim.addMergeRequest(path, {
      iid: 7,
      sourceBranch: "feature/x",
      targetBranch: "main",
      sha: featureSha,
      author: "dev",
      title: "Use a Secret (7)",
      mergeCommitSha: mergeSha,
    });
    await git.branch("ferry/revert-7", mergeSha);
    const left = await git.revertOnto("ferry/revert-7", mergeSha);
    assert.ok("sha" in left);
    const posts = () => sim.requests.filter((r) => r.method === "POST" && r.path.endsWith("/revert")).length;
    const before = posts();
    const change = (await forge.mergedChange(7)) as MergedChange;
    const marker7 = "<!-- ferry:revert-of:7 -->";
    const revert = await forge.revertChange(change, { title: "t", body: marker7, marker: marker7 });
    assert.ok(!("refused" in revert));
    assert.deepEqual(
      [revert.headSha, revert.branch, revert.created, posts()],
      [left.sha, "ferry/revert-7", true, before],
    );
  });

  test("a revert that conflicts is GitLab's 400 in its words, and leaves no branch behind", async () => {
    await git.checkout("main");
    await git.writeFiles({ "envs/staging/app.yaml": "kind: Deployment\n" });
    await git.commit("later change to the same line");
    sim.addMergeRequest(path, {
      iid: 5,
      sourceBranch: "feature/x",
      targetBranch: "main",
      sha: featureSha,
      author: "dev",
      title: "Use a Secret again",
      mergeCommitSha: mergeSha,
    });
    const change = (await forge.mergedChange(5)) as MergedChange;
    assert.deepEqual(await forge.revertChange(change, { title: "t", body: "b", marker: "<!-- other -->" }), {
      refused: revertConflictMessage,
    });
    assert.equal(await git.resolve("refs/heads/ferry/revert-5"), undefined);
  });

  test("merges at the head; a moved head, a merged merge request and failed merge checks are refusals", async () => {
    await git.branch("feature/z", "main");
    await git.checkout("feature/z");
    await git.writeFiles({ "z.txt": "z\n" });
    const head = await git.commit("z");
    await git.checkout("main");
    sim.addMergeRequest(path, { iid: 20, sourceBranch: "feature/z", targetBranch: "main", sha: head, author: "dev" });
    assert.deepEqual(await forge.mergeChange(20, featureSha), {
      merged: false,
      refused: `409 SHA does not match HEAD of source branch: ${head}`,
    });
    assert.deepEqual(await forge.mergeChange(20, head), { merged: true, sha: await git.head("main") });
    assert.deepEqual(await forge.mergeChange(20, head), { merged: false, refused: "405 Method Not Allowed" });
    sim.blockMerges(path, "main", 405, "405 Method Not Allowed");
    sim.addMergeRequest(path, {
      iid: 21,
      sourceBranch: "feature/x",
      targetBranch: "main",
      sha: featureSha,
      author: "dev",
    });
    assert.deepEqual(await forge.mergeChange(21, featureSha), { merged: false, refused: "405 Method Not Allowed" });
  });
});
