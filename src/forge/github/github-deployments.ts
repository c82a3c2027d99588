import type { ProbotOctokit } from "probot";
import { permanent, type FerryError } from "../../errors.js";
import { forgeCall } from "../forge-call.js";
import { trimDescription } from "../trim-description.js";
import type { DeploymentState, DeploymentStateDetails, DeploymentTarget } from "../types.js";
import { githubError, githubStatus } from "./github-error.js";

/** GitHub's limit on a deployment status description, in characters. */
const maxDescriptionLength = 140;

/** What `GitHubDeployments` is built from. */
export interface GitHubDeploymentsOptions {
  /** An Octokit authenticated as the app installation. */
  octokit: ProbotOctokit;
  /** Repository owner. */
  owner: string;
  /** Repository name. */
  name: string;
  /** The app's bot login, e.g. `ferry[bot]`: only deployments it created count as Ferry's. */
  botLogin: string;
}

/**
 * A repository's deployments through GitHub's REST deployments API (docs.github.com/rest/deployments):
 * "Create a deployment", "List deployments" and "Create a deployment status" need the app's
 * `deployments` repository permission (write to create, read to list).
 */
export class GitHubDeployments {
  private readonly octokit: ProbotOctokit;
  private readonly owner: string;
  private readonly name: string;
  private readonly bot: string;

  /** Binds the installation's Octokit to one repository. */
  constructor(options: GitHubDeploymentsOptions) {
    this.octokit = options.octokit;
    this.owner = options.owner;
    this.name = options.name;
    this.bot = options.botLogin.toLowerCase();
  }

  /**
   * `GET /repos/{owner}/{repo}/deployments?environment=<env>&sha=<sha>`, keeping what the bot
   * created; else `POST /repos/{owner}/{repo}/deployments` with `ref` = the sha (so GitHub cannot
   * auto-merge anything into it: `auto_merge: false`), `required_contexts: []` (Ferry's own pending
   * `ferry/deploy/<env>` status would otherwise fail GitHub's check with 409), and the rollout id as
   * payload. A 5xx on create is not retried in place: GitHub may have created it, and the job's
   * retry finds it by the list.
   */
  async ensure(target: DeploymentTarget): Promise<number> {
    const found = await this.call(`listing the deployments of ${target.environment}`, async () => {
      const { data } = await this.octokit.rest.repos.listDeployments({
        owner: this.owner,
        repo: this.name,
        environment: target.environment,
        sha: target.sha,
        per_page: 100,
      });
      return data.find((d) => d.sha === target.sha && d.creator?.login.toLowerCase() === this.bot);
    });
    if (found !== undefined) return found.id;
    const doing = `creating the deployment of ${target.environment} at ${target.sha.slice(0, 7)}`;
    return this.call(doing, async () => {
      const response = await this.octokit.rest.repos.createDeployment({
        owner: this.owner,
        repo: this.name,
        ref: target.sha,
        task: "deploy",
        environment: target.environment,
        auto_merge: false,
        required_contexts: [],
        payload: { rolloutId: target.rolloutId, branch: target.branch },
        description: `Ferry release of ${target.sha.slice(0, 7)} from ${target.branch}`,
        transient_environment: target.transient,
        production_environment: target.production,
        request: { retries: 0 },
      });
      // 202 ("Auto-merged ...") cannot happen with auto_merge off; it would mean no deployment exists.
      if (response.status !== 201 || !("id" in response.data))
        throw permanent(`GitHub: ${doing}: ${response.status} no deployment was created`);
      return response.data.id;
    });
  }

  /**
   * `POST /repos/{owner}/{repo}/deployments/{id}/statuses` with GitHub's state of the same name, the
   * rollout page as `log_url` and the environment's URL. `auto_inactive` is asked for on success
   * only: GitHub then marks the environment's earlier successful deployments inactive (it does so for
   * non-production, non-transient environments; Ferry marks the others itself).
   */
  async setState(id: number, state: DeploymentState, details: DeploymentStateDetails): Promise<void> {
    await this.call(`setting deployment ${id} ${state}`, () =>
      this.octokit.rest.repos.createDeploymentStatus({
        owner: this.owner,
        repo: this.name,
        deployment_id: id,
        state,
        description: trimDescription(details.description, maxDescriptionLength),
        log_url: details.logUrl,
        ...(details.environmentUrl === undefined ? {} : { environment_url: details.environmentUrl }),
        auto_inactive: state === "success",
      }),
    );
  }

  private call<T>(doing: string, run: () => Promise<T>): Promise<T> {
    return forgeCall(doing, run, githubDeploymentError);
  }
}

/** `githubError`, saying which permission is missing when the installation lacks `deployments`. */
function githubDeploymentError(error: unknown, doing: string): FerryError {
  const failure = githubError(error, doing);
  if (
    failure.kind === "permanent" &&
    githubStatus(error) === 403 &&
    /resource not accessible by integration/i.test(failure.message)
  )
    return permanent(
      `${failure.message} (the GitHub App needs the "deployments: write" permission: add it in the app's settings, then accept it on the installation)`,
      { cause: error },
    );
  return failure;
}
