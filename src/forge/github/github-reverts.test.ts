import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Probot } from "probot";
import { ferryError } from "../../../test/support/ferry-error.js";
import type { GitRepo } from "../../../test/support/git-repo.js";
import { defaultInstallationPermissions, type GitHubSimulator } from "../../../test/support/github-simulator.js";
import { startSimulatedGitHub } from "../../../test/support/simulated-github.js";
import { revertConflictMessage } from "../../../test/support/github-simulator/graphql-routes.js";
import type { RepoRef } from "../../domain/repo.js";
import type { Forge, MergedChange } from "../types.js";
import { githubForgeFactory } from "./github-forge-factory.js";

const fullName = "acme/revert";
const repoRef: RepoRef = { forge: "github", fullName, installationId: 1 };
const marker = "<!-- ferry:revert-of:3 -->";

describe("GitHubForge reverts against the GitHub simulator", () => {
  let sim: GitHubSimulator;
  let git: GitRepo;
  let probot: Probot;
  let forge: Forge;
  let mergeSha: string;
  let featureSha: string;

  before(async () => {
    ({ sim, git, probot, mergeSha, featureSha } = await startSimulatedGitHub(fullName));
    sim.addPullRequest(fullName, {
      number: 3,
      headSha: featureSha,
      headRef: "feature/x",
      baseRef: "main",
      user: "dev",
      title: "Use a Secret",
      merged: true,
      mergeCommitSha: mergeSha,
    });
    sim.addPullRequest(fullName, {
      number: 4,
      headSha: featureSha,
      headRef: "feature/y",
      baseRef: "main",
      user: "dev",
    });
    forge = await githubForgeFactory(probot)(repoRef);
  });
  after(async () => {
    assert.deepEqual(sim.unhandled, []);
    await sim.close();
    await git.dispose();
  });

  test("reads a merged pull request, and nothing for an open one", async () => {
    assert.deepEqual(await forge.mergedChange(3), {
      number: 3,
      title: "Use a Secret",
      baseBranch: "main",
      mergeSha,
      url: `${sim.url}/${fullName}/pull/3`,
    });
    assert.equal(await forge.mergedChange(4), undefined);
  });

  test("the mutation opens a revert by the bot whose head undoes the merge; asked again, it finds that one", async () => {
    const change = (await forge.mergedChange(3)) as MergedChange;
    const request = { title: 'Revert "Use a Secret"', body: `Reverts #3\n\n${marker}`, marker };
    const revert = await forge.revertChange(change, request);
    assert.ok(!("refused" in revert));
    assert.deepEqual([revert.branch, revert.created], ["revert-3-feature/x", true]);
    const pr = sim.pullRequest(fullName, revert.number);
    assert.deepEqual(
      [pr?.user, pr?.title, pr?.body, pr?.headSha],
      [sim.botLogin, request.title, request.body, revert.headSha],
    );
    assert.equal(revert.url, `${sim.url}/${fullName}/pull/${revert.number}`);
    const request0 = sim.requests.filter((r) => r.path === "/api/graphql").length;
    assert.deepEqual(await forge.revertChange(change, request), { ...revert, created: false });
    assert.equal(sim.requests.filter((r) => r.path === "/api/graphql").length, request0, "no second mutation");
    // The revert's tree is main's before the merge: the feature's change is undone.
    assert.equal(
      await git.resolve(`${revert.headSha}:envs/staging/app.yaml`),
      await git.resolve(`${mergeSha}^1:envs/staging/app.yaml`),
    );
  });

  test("a revert git cannot make is GitHub's refusal in its words; a missing permission is an error that says which", async () => {
    await git.checkout("main");
    await git.writeFiles({ "envs/staging/app.yaml": "kind: Deployment\n" });
    await git.commit("later change to the same line");
    const change = (await forge.mergedChange(3)) as MergedChange;
    const other = "<!-- ferry:revert-of:3 (second) -->";
    assert.deepEqual(await forge.revertChange(change, { title: "t", body: other, marker: other }), {
      refused: revertConflictMessage,
    });
    sim.setInstallationPermissions(1, { ...defaultInstallationPermissions, contents: "read" });
    try {
      const error = await ferryError(forge.revertChange(change, { title: "t", body: other, marker: other }));
      assert.deepEqual(
        [error.kind, error.message],
        [
          "permanent",
          'GitHub: reverting #3: Resource not accessible by integration (the GitHub App needs "contents: write" and "pull_requests: write")',
        ],
      );
    } finally {
      sim.setInstallationPermissions(1, { ...defaultInstallationPermissions });
    }
  });

  test("merges at the head, once; a moved head, a merged pull request and branch protection are refusals, sent once", async () => {
    const open = async (number: number, branch: string) => {
      await git.branch(branch, "main");
      await git.checkout(branch);
      await git.writeFiles({ [`${branch}.txt`]: "x\n" });
      const head = await git.commit(branch);
      await git.checkout("main");
      sim.addPullRequest(fullName, { number, headSha: head, headRef: branch, baseRef: "main", user: "dev" });
      return head;
    };
    const head = await open(20, "feature/z");
    assert.deepEqual(await forge.mergeChange(20, featureSha), {
      merged: false,
      refused: "409 Head branch was modified. Review and try the merge again.",
    });
    const merged = await forge.mergeChange(20, head);
    assert.deepEqual(merged, { merged: true, sha: await git.head("main") });
    assert.deepEqual(await git.parents(await git.head("main")), [(await git.parents(await git.head("main")))[0], head]);
    assert.deepEqual(await forge.mergeChange(20, head), {
      merged: false,
      refused: "405 Pull Request is not mergeable",
    });

    sim.protectBranch(fullName, "main", "At least 1 approving review is required by reviewers with write access.");
    const other = await open(21, "feature/w");
    assert.deepEqual(await forge.mergeChange(21, other), {
      merged: false,
      refused: "405 At least 1 approving review is required by reviewers with write access.",
    });
    const puts = sim.requests.filter(
      (r) => r.method === "PUT" && r.path === `/api/v3/repos/${fullName}/pulls/21/merge`,
    );
    assert.equal(puts.length, 1, "a refusal is not retried");
  });
});
