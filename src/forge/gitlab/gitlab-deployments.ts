import type { DeploymentStatus, Gitlab } from "@gitbeaker/rest";
import { forgeCall } from "../forge-call.js";
import type { DeploymentState, DeploymentTarget } from "../types.js";
import { gitlabError, gitlabMessage, gitlabStatus } from "./gitlab-error.js";

/** What `GitLabDeployments` is built from. */
export interface GitLabDeploymentsOptions {
  /** A gitbeaker client authenticated with Ferry's token. */
  api: Gitlab;
  /** The project's id, or its path with namespace. */
  project: number | string;
  /** The token's username (lower-cased): only deployments it made count as Ferry's. */
  botUsername: string;
}

/** The statuses a deployment can be given through the API. */
type SettableStatus = "running" | "success" | "failed" | "canceled";

/** Ferry's deployment states in GitLab's words: GitLab has no queued or inactive, only running and canceled. */
const gitlabStatuses = {
  queued: "running",
  in_progress: "running",
  success: "success",
  failure: "failed",
  inactive: "canceled",
} as const satisfies Record<DeploymentState, SettableStatus>;

const finished: ReadonlySet<DeploymentStatus> = new Set(["success", "failed", "canceled"]);

/**
 * A project's environments and deployments through GitLab's REST API (docs.gitlab.com/api/environments,
 * docs.gitlab.com/api/deployments); the token needs the `api` scope and the Developer role, as GitLab
 * asks for creating deployments and environments.
 */
export class GitLabDeployments {
  private readonly api: Gitlab;
  private readonly project: number | string;
  private readonly bot: string;

  /** Binds the client to one project. */
  constructor(options: GitLabDeploymentsOptions) {
    this.api = options.api;
    this.project = options.project;
    this.bot = options.botUsername.toLowerCase();
  }

  /**
   * The environment made or brought up to date (`external_url`, `tier`), then the newest deployment
   * of the environment at the sha that Ferry's user made (`GET /projects/:id/deployments?environment=`,
   * newest first), or a new one (`POST /projects/:id/deployments`, status `running`: the API takes no
   * `created`). A 5xx on create is not retried in place (see gitlabRequester): the job's retry finds it.
   */
  async ensure(target: DeploymentTarget): Promise<number> {
    await this.ensureEnvironment(target);
    const found = await this.call(`listing the deployments of ${target.environment}`, async () => {
      const deployments = await this.api.Deployments.all(this.project, {
        environment: target.environment,
        orderBy: "id",
        sort: "desc",
        perPage: 100,
        maxPages: 1,
      });
      return deployments.find((d) => d.sha === target.sha && d.user.username.toLowerCase() === this.bot);
    });
    if (found !== undefined) return found.id;
    return this.call(`creating the deployment of ${target.environment} at ${target.sha.slice(0, 7)}`, async () => {
      const created = await this.api.Deployments.create(
        this.project,
        target.environment,
        target.sha,
        target.branch,
        false,
        { status: "running" },
      );
      return created.id;
    });
  }

  /**
   * `PUT /projects/:id/deployments/:id` with the state in GitLab's words, only when it is a transition
   * GitLab's state machine makes and Ferry means: nothing when the deployment is in it already,
   * `running` only from `created` or `blocked` (a finished deployment never runs again), and
   * `canceled` (inactive) only while it has not finished: a finished deployment stays as it ended,
   * and GitLab shows the newer one as the environment's. A 400 on a move another worker made
   * meanwhile is settled when the deployment no longer needs it.
   */
  async setState(id: number, state: DeploymentState): Promise<void> {
    const wanted = gitlabStatuses[state];
    const doing = `setting deployment ${id} ${wanted}`;
    const current = await this.status(id);
    if (!isWanted(current, wanted)) return;
    try {
      await this.api.Deployments.edit(this.project, id, wanted);
    } catch (error) {
      if (gitlabStatus(error) === 400 && !isWanted(await this.status(id), wanted)) return;
      throw gitlabError(error, doing);
    }
  }

  /** The environment named by `target`, created when missing, its URL and tier set when they differ. */
  private async ensureEnvironment(target: DeploymentTarget): Promise<void> {
    const name = target.environment;
    const wanted = {
      ...(target.url === undefined ? {} : { externalUrl: target.url }),
      ...(target.production ? { tier: "production" as const } : {}),
    };
    const existing = await this.call(`reading environment ${name}`, async () =>
      (await this.api.Environments.all(this.project, { name, perPage: 100, maxPages: 1 })).find((e) => e.name === name),
    );
    if (existing === undefined) {
      try {
        await this.api.Environments.create(this.project, name, wanted);
      } catch (error) {
        // Another worker (or the deployment API) made it meanwhile: GitLab answers "has already been taken".
        if (gitlabStatus(error) === 400 && /taken/.test(gitlabMessage(error) ?? "")) return;
        throw gitlabError(error, `creating environment ${name}`);
      }
      return;
    }
    const stale =
      (wanted.externalUrl !== undefined && existing.external_url !== wanted.externalUrl) ||
      (wanted.tier !== undefined && existing.tier !== wanted.tier);
    if (stale)
      await this.call(`editing environment ${name}`, () =>
        this.api.Environments.edit(this.project, existing.id, wanted),
      );
  }

  private async status(id: number): Promise<DeploymentStatus> {
    return this.call(
      `reading deployment ${id}`,
      async () => (await this.api.Deployments.show(this.project, id)).status,
    );
  }

  private call<T>(doing: string, run: () => Promise<T>): Promise<T> {
    return forgeCall(doing, run, gitlabError);
  }
}

/** Whether moving a deployment in `current` to `wanted` is a transition GitLab makes and Ferry means. */
function isWanted(current: string, wanted: SettableStatus): boolean {
  if (current === wanted) return false;
  if (wanted === "running") return current === "created" || current === "blocked";
  if (wanted === "canceled") return !finished.has(current as DeploymentStatus);
  return true;
}
