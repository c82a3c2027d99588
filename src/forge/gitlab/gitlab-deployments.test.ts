import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createDeployRepo } from "../../../test/support/deploy-repo.js";
import { ferryError } from "../../../test/support/ferry-error.js";
import type { GitRepo } from "../../../test/support/git-repo.js";
import { accessLevels, GitLabSimulator } from "../../../test/support/gitlab-simulator.js";
import type { DeploymentTarget, Forge } from "../types.js";
import { gitlabForgeFactory } from "./gitlab-forge-factory.js";

const path = "acme/deploy";

describe("GitLab environments and deployments against the GitLab simulator", () => {
  let sim: GitLabSimulator;
  let git: GitRepo;
  let forge: Forge;
  let mainSha: string;
  let featureSha: string;
  const target = (sha: string, environment = "staging", extra: Partial<DeploymentTarget> = {}): DeploymentTarget => ({
    environment,
    sha,
    branch: "main",
    rolloutId: "r1",
    production: false,
    transient: false,
    ...extra,
  });
  const details = { description: "deployed", logUrl: "https://ferry.example.com/rollouts/r1" };
  /** GitLab's API called directly, as another client would. */
  const put = (id: number, status: string) =>
    fetch(`${sim.apiUrl}/projects/${encodeURIComponent(path)}/deployments/${id}`, {
      method: "PUT",
      headers: { "private-token": sim.token, "content-type": "application/json" },
      body: JSON.stringify({ status }),
    });

  before(async () => {
    ({ git, mainSha, featureSha } = await createDeployRepo("Merge branch 'feature/x' into 'main'"));
    sim = await GitLabSimulator.start();
    const project = sim.addProject(path, git);
    forge = await gitlabForgeFactory({ url: sim.url, token: sim.token, retry: { backoffMs: 10 } })({
      forge: "gitlab",
      fullName: path,
      projectId: project.id,
    });
  });
  after(async () => {
    assert.deepEqual(sim.unhandled, []);
    await sim.close();
    await git.dispose();
  });

  test("ensureDeployment makes the environment (URL, tier) and one running deployment per sha, found again", async () => {
    const wanted = target(mainSha, "production-eu", { url: "https://shop.example.com", production: true });
    const id = await forge.ensureDeployment(wanted);
    assert.equal(await forge.ensureDeployment(wanted), id);
    assert.deepEqual(
      sim.environments(path).map((e) => [e.name, e.externalUrl, e.tier]),
      [["production-eu", "https://shop.example.com", "production"]],
    );
    const [made, ...more] = sim.deployments(path, "production-eu");
    assert.deepEqual(more, []);
    assert.deepEqual(
      [made?.ref, made?.sha, made?.tag, made?.history],
      ["main", mainSha, false, ["created", "running"]],
    );

    await forge.ensureDeployment({ ...wanted, sha: featureSha, url: "https://shop-eu.example.com" });
    assert.deepEqual(
      sim.environments(path).map((e) => [e.externalUrl, e.edits]),
      [["https://shop-eu.example.com", 1]],
      "a changed URL is brought up to date",
    );
  });

  test("setDeploymentState sends only transitions GitLab's state machine makes and Ferry means", async () => {
    const id = await forge.ensureDeployment(target(mainSha));
    await forge.setDeploymentState(id, "queued", details);
    await forge.setDeploymentState(id, "in_progress", details);
    await forge.setDeploymentState(id, "success", details);
    await forge.setDeploymentState(id, "success", details);
    await forge.setDeploymentState(id, "in_progress", details);
    await forge.setDeploymentState(id, "inactive", details);
    assert.deepEqual(sim.deployments(path, "staging")[0]?.history, ["created", "running", "success"]);
    const superseded = await forge.ensureDeployment(target(featureSha));
    await forge.setDeploymentState(superseded, "inactive", details);
    const failed = await forge.ensureDeployment(target(featureSha, "qa"));
    await forge.setDeploymentState(failed, "failure", details);
    assert.deepEqual(
      sim
        .deployments(path)
        .map((d) => `${d.environment} ${d.history.join(" ")}`)
        .slice(-2),
      ["staging created running canceled", "qa created running failed"],
    );
    assert.deepEqual(sim.deploymentTransitionErrors, []);
  });

  test("the simulator refuses as GitLab does: no transition (400), a bad status (400), below Developer (403)", async () => {
    const id = await forge.ensureDeployment(target(mainSha, "review"));
    await forge.setDeploymentState(id, "success", details);
    assert.equal((await put(id, "running")).status, 400, "a finished deployment never runs again");
    assert.equal((await put(id, "success")).status, 400, "success again is no transition");
    assert.equal((await put(id, "done")).status, 400);
    assert.deepEqual(
      sim.deploymentTransitionErrors.map((e) => [e.from, e.requested, e.event]),
      [
        ["success", "running", "run"],
        ["success", "success", "succeed"],
      ],
    );
    sim.setAccessLevel(path, sim.botUsername, accessLevels.reporter);
    try {
      const refused = await ferryError(forge.ensureDeployment(target(featureSha, "review-2")));
      assert.equal(refused.kind, "permanent");
      assert.match(refused.message, /^GitLab: creating environment review-2: 403 Forbidden/);
    } finally {
      sim.setAccessLevel(path, sim.botUsername, accessLevels.maintainer);
    }
  });
});
