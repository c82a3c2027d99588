import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Probot, ProbotOctokit } from "probot";
import { ferryError } from "../../../test/support/ferry-error.js";
import type { GitRepo } from "../../../test/support/git-repo.js";
import { defaultInstallationPermissions, type GitHubSimulator } from "../../../test/support/github-simulator.js";
import { startSimulatedGitHub } from "../../../test/support/simulated-github.js";
import type { DeploymentTarget, Forge } from "../types.js";
import { githubForgeFactory } from "./github-forge-factory.js";

const fullName = "acme/deploy";

describe("GitHub deployments against the GitHub simulator", () => {
  let sim: GitHubSimulator;
  let git: GitRepo;
  let forge: Forge;
  let octokit: ProbotOctokit;
  let mainSha: string;
  let featureSha: string;
  const target = (sha: string, environment = "staging", production = false): DeploymentTarget => ({
    environment,
    sha,
    branch: "main",
    rolloutId: `r-${sha.slice(0, 7)}`,
    production,
    transient: false,
  });
  const details = { description: "deployed", logUrl: "https://ferry.example.com/rollouts/r1" };

  before(async () => {
    let probot: Probot;
    ({ sim, git, probot, mainSha, featureSha } = await startSimulatedGitHub(fullName));
    forge = await githubForgeFactory(probot)({ forge: "github", fullName, installationId: 1 });
    octokit = await probot.auth(1);
  });

  after(async () => {
    await sim.close();
    await git.dispose();
  });

  test("ensureDeployment makes one deployment per environment and sha, found again by the list", async () => {
    // A pending commit status, as Ferry's own ferry/deploy/<env> is while it releases.
    await forge.setStatus(mainSha, { context: "ferry/deploy/staging", state: "pending", description: "queued" });
    const id = await forge.ensureDeployment(target(mainSha));
    assert.equal(await forge.ensureDeployment(target(mainSha)), id, "found again");
    const [made, ...more] = sim.deployments(fullName, "staging");
    assert.deepEqual(more, []);
    assert.equal(made?.ref, mainSha);
    assert.equal(made?.task, "deploy");
    assert.deepEqual(made?.payload, { rolloutId: `r-${mainSha.slice(0, 7)}`, branch: "main" });
    assert.equal(made?.production_environment, false);
    assert.equal(made?.creator, "ferry[bot]");
  });

  test("the simulator refuses as GitHub does: failing required contexts (409), a bad ref (422), a bad state (422)", async () => {
    const conflict = await octokit
      .request("POST /repos/{owner}/{repo}/deployments", { owner: "acme", repo: "deploy", ref: mainSha })
      .then(
        () => 0,
        (error: { status: number }) => error.status,
      );
    assert.equal(conflict, 409, "every context must be success when required_contexts is left out");
    const badRef = await octokit.rest.repos
      .createDeployment({ owner: "acme", repo: "deploy", ref: "nope", required_contexts: [] })
      .then(
        () => 0,
        (error: { status: number }) => error.status,
      );
    assert.equal(badRef, 422);
    const id = await forge.ensureDeployment(target(mainSha));
    const badState = await octokit
      .request("POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses", {
        owner: "acme",
        repo: "deploy",
        deployment_id: id,
        state: "done" as "success",
      })
      .then(
        () => 0,
        (error: { status: number }) => error.status,
      );
    assert.equal(badState, 422);
  });

  test("setDeploymentState posts GitHub's states; auto_inactive retires earlier successes of non-production environments only", async () => {
    const first = await forge.ensureDeployment(target(mainSha, "qa"));
    await forge.setDeploymentState(first, "queued", { ...details, description: "queued" });
    await forge.setDeploymentState(first, "in_progress", { ...details, description: "deploying" });
    await forge.setDeploymentState(first, "success", { ...details, environmentUrl: "https://qa.example.com" });
    const second = await forge.ensureDeployment(target(featureSha, "qa"));
    await forge.setDeploymentState(second, "success", details);
    const [older, newer] = sim.deployments(fullName, "qa");
    assert.deepEqual(
      older?.statuses.map((s) => s.state),
      ["queued", "in_progress", "success", "inactive"],
    );
    assert.equal(older?.statuses[2]?.environment_url, "https://qa.example.com");
    assert.equal(older?.statuses[2]?.log_url, details.logUrl);
    assert.deepEqual(
      newer?.statuses.map((s) => s.state),
      ["success"],
    );

    const prodA = await forge.ensureDeployment(target(mainSha, "production", true));
    await forge.setDeploymentState(prodA, "success", details);
    const prodB = await forge.ensureDeployment(target(featureSha, "production", true));
    await forge.setDeploymentState(prodB, "success", details);
    assert.deepEqual(
      sim.deployments(fullName, "production").map((d) => d.statuses.map((s) => s.state)),
      [["success"], ["success"]],
      "GitHub leaves production deployments active: Ferry retires them itself",
    );
  });

  test("without the deployments permission: 403 in GitHub's words, a permanent error", async () => {
    const { deployments: _deployments, ...without } = defaultInstallationPermissions;
    sim.setInstallationPermissions(1, without);
    try {
      const refused = await ferryError(forge.ensureDeployment(target(mainSha, "other")));
      assert.equal(refused.kind, "permanent");
      assert.equal(
        refused.message,
        'GitHub: listing the deployments of other: 403 Resource not accessible by integration (the GitHub App needs the "deployments: write" permission: add it in the app\'s settings, then accept it on the installation)',
      );
    } finally {
      sim.setInstallationPermissions(1, defaultInstallationPermissions);
    }
  });
});
