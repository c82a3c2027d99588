import express, { type Request, type Response, type Router } from "express";
import { objectBody } from "./feedback-routes.js";
import {
  orNotFound,
  param,
  sendError,
  sendPage,
  sendValidationFailed,
  withRepo,
  type Needs,
  type SimulatorContext,
} from "./context.js";
import { timestamp, userJson, type Urls } from "./json.js";
import {
  deploymentStates,
  type DeploymentRecord,
  type DeploymentStatusRecord,
  type DeploymentStatusState,
  type SimRepo,
  type StatusRecord,
} from "./model.js";

/** GitHub's limit on a deployment status description. */
const maxDescriptionLength = 140;

/**
 * Deployment and deployment status endpoints (docs.github.com/rest/deployments), mounted under
 * `/api/v3`, refused with 403 without the installation's `deployments` permission (read to list,
 * write to create). As documented: `ref` is required and must resolve; without `required_contexts`
 * every context's latest commit status must be `success` (else 409), with it the listed ones; a
 * status's `state` must be one of GitHub's seven and its description at most 140 characters;
 * `log_url` sets `target_url`; `auto_inactive` (default true) marks the environment's earlier
 * deployments whose latest status is `success` inactive, for non-transient, non-production
 * environments only. Not modelled: `auto_merge` merging the default branch into a branch ref (202).
 */
export function deploymentRoutes(ctx: SimulatorContext): Router {
  const router = express.Router();
  const bot = `${ctx.appSlug}[bot]`;
  const deployments = (access: Needs["access"]): Needs => ({ anyOf: ["deployments"], access });

  router.get(
    "/repos/:owner/:repo/deployments",
    withRepo(
      ctx,
      (req, res, repo) => {
        const filter = (name: string) => (typeof req.query[name] === "string" ? req.query[name] : undefined);
        const [sha, ref, task, environment] = ["sha", "ref", "task", "environment"].map(filter);
        const newestFirst = [...repo.deployments]
          .reverse()
          .filter(
            (d) =>
              (sha === undefined || d.sha === sha) &&
              (ref === undefined || d.ref === ref) &&
              (task === undefined || d.task === task) &&
              (environment === undefined || d.environment === environment),
          );
        sendPage(
          req,
          res,
          ctx,
          newestFirst.map((d) => deploymentJson(repo, d, ctx.urls)),
        );
      },
      deployments("read"),
    ),
  );

  router.post(
    "/repos/:owner/:repo/deployments",
    withRepo(ctx, (req, res, repo) => createDeployment(ctx, req, res, repo, bot), deployments("write")),
  );

  router.get(
    "/repos/:owner/:repo/deployments/:id",
    withRepo(
      ctx,
      (req, res, repo) => {
        const deployment = findDeployment(req, res, repo);
        if (deployment !== undefined) res.json(deploymentJson(repo, deployment, ctx.urls));
      },
      deployments("read"),
    ),
  );

  router.get(
    "/repos/:owner/:repo/deployments/:id/statuses",
    withRepo(
      ctx,
      (req, res, repo) => {
        const deployment = findDeployment(req, res, repo);
        if (deployment === undefined) return;
        const newestFirst = [...deployment.statuses].reverse();
        sendPage(
          req,
          res,
          ctx,
          newestFirst.map((s) => deploymentStatusJson(repo, deployment, s, ctx.urls)),
        );
      },
      deployments("read"),
    ),
  );

  router.post(
    "/repos/:owner/:repo/deployments/:id/statuses",
    withRepo(
      ctx,
      (req, res, repo) => {
        const deployment = findDeployment(req, res, repo);
        if (deployment === undefined) return;
        const body = objectBody(req);
        const state = body["state"];
        if (!isDeploymentState(state)) {
          sendValidationFailed(res, "DeploymentStatus", "state", "custom", "state is not included in the list");
          return;
        }
        const description = typeof body["description"] === "string" ? body["description"] : "";
        if (description.length > maxDescriptionLength) {
          sendValidationFailed(
            res,
            "DeploymentStatus",
            "description",
            "custom",
            `description is too long (maximum is ${maxDescriptionLength} characters)`,
          );
          return;
        }
        const text = (name: string) => (typeof body[name] === "string" ? body[name] : "");
        const status: DeploymentStatusRecord = {
          id: ctx.nextId(),
          state,
          description,
          environment: text("environment") || (deployment.statuses.at(-1)?.environment ?? deployment.environment),
          log_url: text("log_url") || text("target_url"),
          environment_url: text("environment_url"),
          creator: bot,
          created_at: timestamp(),
        };
        deployment.statuses.push(status);
        if (state === "success" && body["auto_inactive"] !== false) autoInactive(ctx, repo, deployment, bot);
        res.status(201).json(deploymentStatusJson(repo, deployment, status, ctx.urls));
      },
      deployments("write"),
    ),
  );

  return router;
}

/** `POST /repos/{owner}/{repo}/deployments`: validates, checks the required contexts, records. */
async function createDeployment(
  ctx: SimulatorContext,
  req: Request,
  res: Response,
  repo: SimRepo,
  bot: string,
): Promise<void> {
  const body = objectBody(req);
  const ref = body["ref"];
  if (typeof ref !== "string" || ref === "") {
    sendValidationFailed(res, "Deployment", "ref", "missing_field");
    return;
  }
  const sha = await repo.git.resolve(ref);
  if (sha === undefined) {
    sendError(res, 422, `No ref found for: ${ref}`);
    return;
  }
  const required = body["required_contexts"];
  const failing = failingContexts(
    repo.statuses.filter((s) => s.sha === sha),
    Array.isArray(required) ? required.filter((c): c is string => typeof c === "string") : undefined,
  );
  if (failing.length > 0) {
    sendError(res, 409, `Conflict: Commit status checks failed for ${ref}.`, {
      errors: [{ contexts: failing, resource: "Deployment", field: "required_contexts", code: "invalid" }],
    });
    return;
  }
  const environment = typeof body["environment"] === "string" ? body["environment"] : "production";
  const deployment: DeploymentRecord = {
    id: ctx.nextId(),
    sha,
    ref,
    task: typeof body["task"] === "string" ? body["task"] : "deploy",
    environment,
    payload: body["payload"] ?? {},
    description: typeof body["description"] === "string" ? body["description"] : null,
    transient_environment: body["transient_environment"] === true,
    production_environment:
      typeof body["production_environment"] === "boolean"
        ? body["production_environment"]
        : environment === "production",
    creator: bot,
    created_at: timestamp(),
    statuses: [],
  };
  repo.deployments.push(deployment);
  res.status(201).json(deploymentJson(repo, deployment, ctx.urls));
}

/** The contexts that keep a deployment from being created: `required` (default: every context) whose latest status is not success. */
function failingContexts(
  statuses: StatusRecord[],
  required: string[] | undefined,
): Array<{ context: string; state: string }> {
  const latest = new Map<string, string>();
  for (const s of statuses) latest.set(s.context, s.state);
  const wanted = required ?? [...latest.keys()];
  return wanted
    .map((context) => ({ context, state: latest.get(context) ?? "missing" }))
    .filter((c) => c.state !== "success");
}

/** GitHub's `auto_inactive`: earlier successful deployments of a non-transient, non-production environment become inactive. */
function autoInactive(ctx: SimulatorContext, repo: SimRepo, deployment: DeploymentRecord, bot: string): void {
  if (deployment.transient_environment || deployment.production_environment) return;
  for (const other of repo.deployments) {
    if (other.id >= deployment.id || other.environment !== deployment.environment) continue;
    if (other.statuses.at(-1)?.state !== "success") continue;
    other.statuses.push({
      id: ctx.nextId(),
      state: "inactive",
      description: "",
      environment: other.environment,
      log_url: "",
      environment_url: "",
      creator: bot,
      created_at: timestamp(),
    });
  }
}

/** Deployment `:id`, or undefined after answering 404. */
function findDeployment(req: Request, res: Response, repo: SimRepo): DeploymentRecord | undefined {
  const id = Number(param(req, "id"));
  return orNotFound(
    res,
    repo.deployments.find((d) => d.id === id),
  );
}

function isDeploymentState(state: unknown): state is DeploymentStatusState {
  return typeof state === "string" && (deploymentStates as readonly string[]).includes(state);
}

/** A deployment as GitHub's REST API returns it. */
function deploymentJson(repo: SimRepo, d: DeploymentRecord, urls: Urls): Record<string, unknown> {
  const url = `${urls.api}/repos/${repo.fullName}/deployments/${d.id}`;
  return {
    url,
    id: d.id,
    node_id: Buffer.from(`010:Deployment${d.id}`).toString("base64"),
    sha: d.sha,
    ref: d.ref,
    task: d.task,
    payload: d.payload,
    original_environment: d.environment,
    environment: d.environment,
    description: d.description,
    creator: userJson(d.creator, urls),
    created_at: d.created_at,
    updated_at: d.statuses.at(-1)?.created_at ?? d.created_at,
    statuses_url: `${url}/statuses`,
    repository_url: `${urls.api}/repos/${repo.fullName}`,
    transient_environment: d.transient_environment,
    production_environment: d.production_environment,
  };
}

/** A deployment status as GitHub's REST API returns it. */
function deploymentStatusJson(
  repo: SimRepo,
  d: DeploymentRecord,
  s: DeploymentStatusRecord,
  urls: Urls,
): Record<string, unknown> {
  const deploymentUrl = `${urls.api}/repos/${repo.fullName}/deployments/${d.id}`;
  return {
    url: `${deploymentUrl}/statuses/${s.id}`,
    id: s.id,
    node_id: Buffer.from(`016:DeploymentStatus${s.id}`).toString("base64"),
    state: s.state,
    creator: userJson(s.creator, urls),
    description: s.description,
    environment: s.environment,
    target_url: s.log_url,
    log_url: s.log_url,
    environment_url: s.environment_url,
    created_at: s.created_at,
    updated_at: s.created_at,
    deployment_url: deploymentUrl,
    repository_url: `${urls.api}/repos/${repo.fullName}`,
  };
}
