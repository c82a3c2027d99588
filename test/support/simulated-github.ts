import { createProbot, type Probot } from "probot";
import { ferryOctokit } from "../../src/forge/github/ferry-octokit.js";
import { createDeployRepo, type DeployRepo } from "./deploy-repo.js";
import { GitHubSimulator } from "./github-simulator.js";

/** The GitHub simulator serving one deploy repository, and the Probot app Ferry is, pointed at it. */
export interface SimulatedGitHub extends DeployRepo {
  /** The simulator (installation 1 holds the repository); `close` it after the tests. */
  sim: GitHubSimulator;
  /** The GitHub App as Ferry makes it (Ferry's Octokit), reaching the simulator as GitHub Enterprise Server. */
  probot: Probot;
}

/**
 * Starts the GitHub simulator with `fullName` holding a {@link createDeployRepo} repository (its
 * merge commit says "Merge pull request #3"), and a Probot app for it whose Octokit is Ferry's with
 * no write spacing and 10 ms retry backoff, so the forge tests run fast. Dispose of `git` after.
 */
export async function startSimulatedGitHub(fullName: string): Promise<SimulatedGitHub> {
  const repo = await createDeployRepo("Merge pull request #3");
  const sim = await GitHubSimulator.start();
  sim.addRepo(fullName, repo.git);
  const probot = createProbot({
    env: {
      APP_ID: String(sim.appId),
      PRIVATE_KEY: sim.privateKeyPem,
      WEBHOOK_SECRET: "secret",
      GHE_HOST: sim.host,
      GHE_PROTOCOL: "http",
      LOG_LEVEL: "fatal",
    },
    overrides: { Octokit: ferryOctokit({ writeSpacing: false, retryBackoffMs: 10 }) },
  });
  return { ...repo, sim, probot };
}
