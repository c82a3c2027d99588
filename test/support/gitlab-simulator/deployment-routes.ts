import express, { type Request, type Response, type Router } from "express";
import {
  ensureUser,
  param,
  params,
  sendMessage,
  sendNotFound,
  sendPage,
  stringParam,
  timestamp,
  withProject,
  type GitLabSimContext,
} from "./context.js";
import {
  deploymentTransition,
  environmentTiers,
  guessTier,
  settableDeploymentStatuses,
  type DeploymentRecord,
  type EnvironmentRecord,
  type SettableDeploymentStatus,
} from "./deployment-model.js";
import { userJson } from "./json.js";
import { accessLevels, type SimProject, type SimUser } from "./model.js";

/**
 * Environments and deployments endpoints (docs.gitlab.com/api/environments, /api/deployments),
 * mounted under `/api/v4`, as GitLab's `API::Environments` and `API::Deployments` answer them:
 * writes need the Developer role (403 below it); required parameters and their values are checked
 * (400 "<param> is missing" / "does not have a valid value"); creating a deployment needs a ref that
 * exists, creates its environment when missing, and returns the environment's last successful
 * deployment instead of a new one when ref, tag, sha and status all match (Deployments::CreateService);
 * status changes fire the Deployment state machine's events, and one it has no transition for is
 * answered 400 and recorded in `deploymentTransitionErrors`.
 */
export function deploymentRoutes(ctx: GitLabSimContext): Router {
  const router = express.Router();

  router.get(
    "/projects/:id/environments",
    withProject(ctx, (req, res, project) => {
      const name = stringParam(req, "name");
      const search = stringParam(req, "search");
      const found = [...project.environments.values()].filter(
        (e) => (name === undefined || e.name === name) && (search === undefined || e.name.includes(search)),
      );
      sendPage(
        req,
        res,
        ctx,
        found.map((e) => environmentJson(project, e, ctx)),
      );
    }),
  );

  router.post(
    "/projects/:id/environments",
    withProject(ctx, (req, res, project, user) => {
      if (!canWrite(res, project, user)) return;
      const name = stringParam(req, "name");
      if (name === undefined || name === "") {
        res.status(400).json({ error: "name is missing" });
        return;
      }
      const tier = tierParam(req, res);
      if (tier === null) return;
      if ([...project.environments.values()].some((e) => e.name === name)) {
        sendMessage(res, 400, { name: ["has already been taken"] });
        return;
      }
      const environment = newEnvironment(ctx, project, name, stringParam(req, "external_url") ?? null, tier);
      res.status(201).json(environmentJson(project, environment, ctx));
    }),
  );

  router.put(
    "/projects/:id/environments/:environmentId",
    withProject(ctx, (req, res, project, user) => {
      if (!canWrite(res, project, user)) return;
      const environment = project.environments.get(Number(param(req, "environmentId")));
      if (environment === undefined) {
        sendNotFound(res, "Environment");
        return;
      }
      const tier = tierParam(req, res);
      if (tier === null) return;
      const url = stringParam(req, "external_url");
      if (url !== undefined) environment.externalUrl = url;
      if (tier !== undefined) environment.tier = tier;
      environment.edits++;
      res.json(environmentJson(project, environment, ctx));
    }),
  );

  router.get(
    "/projects/:id/deployments",
    withProject(ctx, (req, res, project) => {
      const environment = stringParam(req, "environment");
      const status = stringParam(req, "status");
      const desc = stringParam(req, "sort") === "desc";
      const found = project.deployments.filter(
        (d) =>
          (environment === undefined || d.environment === environment) && (status === undefined || d.status === status),
      );
      if (desc) found.reverse();
      sendPage(
        req,
        res,
        ctx,
        found.map((d) => deploymentJson(project, d, ctx)),
      );
    }),
  );

  router.get(
    "/projects/:id/deployments/:deploymentId",
    withProject(ctx, (req, res, project) => {
      const deployment = findDeployment(project, req);
      if (deployment === undefined) sendNotFound(res, "Deployment");
      else res.json(deploymentJson(project, deployment, ctx));
    }),
  );

  router.post(
    "/projects/:id/deployments",
    withProject(ctx, (req, res, project, user) => createDeployment(ctx, req, res, project, user)),
  );

  router.put(
    "/projects/:id/deployments/:deploymentId",
    withProject(ctx, (req, res, project, user) => {
      const status = statusParam(req, res);
      if (status === undefined) return;
      const deployment = findDeployment(project, req);
      if (deployment === undefined) {
        sendNotFound(res, "Deployment");
        return;
      }
      if (!canWrite(res, project, user)) return;
      if (!changeStatus(ctx, project, deployment, status, res)) return;
      res.json(deploymentJson(project, deployment, ctx));
    }),
  );

  return router;
}

/** `POST /projects/:id/deployments`, as API::Deployments and Deployments::CreateService do it. */
async function createDeployment(
  ctx: GitLabSimContext,
  req: Request,
  res: Response,
  project: SimProject,
  user: SimUser,
): Promise<void> {
  for (const name of ["environment", "sha", "ref", "tag", "status"]) {
    if (params(req)[name] === undefined) {
      res.status(400).json({ error: `${name} is missing` });
      return;
    }
  }
  const status = statusParam(req, res);
  if (status === undefined) return;
  if (!canWrite(res, project, user)) return;
  const [name, sha, ref] = ["environment", "sha", "ref"].map((p) => String(params(req)[p]));
  const tag = String(params(req)["tag"]) === "true";
  if ((await project.git.resolve(ref ?? "")) === undefined) {
    sendMessage(res, 400, { ref: ["The branch or tag does not exist"] });
    return;
  }
  const resolved = await project.git.resolve(sha ?? "");
  if (resolved === undefined) {
    sendMessage(res, 400, { sha: ["The commit does not exist"] });
    return;
  }
  const environment =
    [...project.environments.values()].find((e) => e.name === name) ??
    newEnvironment(ctx, project, name ?? "", null, undefined);
  const last = [...project.deployments]
    .reverse()
    .find((d) => d.environment === environment.name && d.status === "success");
  if (last !== undefined && last.ref === ref && last.tag === tag && last.sha === sha && last.status === status) {
    res.status(201).json(deploymentJson(project, last, ctx));
    return;
  }
  const now = timestamp();
  const deployment: DeploymentRecord = {
    id: ctx.nextId(),
    iid: project.deployments.length + 1,
    environment: environment.name,
    sha: resolved,
    ref: ref ?? "",
    tag,
    status: "created",
    history: ["created"],
    user: user.username,
    createdAt: now,
    updatedAt: now,
    finishedAt: null,
  };
  project.deployments.push(deployment);
  if (!changeStatus(ctx, project, deployment, status, res)) return;
  res.status(201).json(deploymentJson(project, deployment, ctx));
}

/** Fires the state machine's event; false (answered 400, recorded) when it has no transition from the current status. */
function changeStatus(
  ctx: GitLabSimContext,
  project: SimProject,
  deployment: DeploymentRecord,
  status: SettableDeploymentStatus,
  res: Response,
): boolean {
  const outcome = deploymentTransition(deployment.status, status);
  if (!outcome.ok) {
    ctx.deploymentTransitionErrors.push({
      project: project.path,
      deployment: deployment.id,
      from: deployment.status,
      requested: status,
      event: outcome.event,
    });
    sendMessage(res, 400, { status: [`cannot transition via "${outcome.event}"`] });
    return false;
  }
  deployment.status = status;
  deployment.history.push(status);
  deployment.updatedAt = timestamp();
  if (status !== "running") deployment.finishedAt = deployment.updatedAt;
  return true;
}

/** Whether `user` holds the Developer role (GitLab's `create_deployment`, `update_deployment`, `create_environment`); 403 when not. */
function canWrite(res: Response, project: SimProject, user: SimUser): boolean {
  const level = project.members.get(user.username.toLowerCase()) ?? accessLevels.none;
  if (level >= accessLevels.developer) return true;
  sendMessage(res, 403, "403 Forbidden");
  return false;
}

/** The `status` parameter; undefined (answered 400) when missing or not one the API takes. */
function statusParam(req: Request, res: Response): SettableDeploymentStatus | undefined {
  const status = stringParam(req, "status");
  if (status === undefined) res.status(400).json({ error: "status is missing" });
  else if (!(settableDeploymentStatuses as readonly string[]).includes(status))
    res.status(400).json({ error: "status does not have a valid value" });
  else return status as SettableDeploymentStatus;
  return undefined;
}

/** The `tier` parameter: undefined when absent, null (answered 400) when not one GitLab knows. */
function tierParam(req: Request, res: Response): EnvironmentRecord["tier"] | undefined | null {
  const tier = stringParam(req, "tier");
  if (tier === undefined) return undefined;
  if ((environmentTiers as readonly string[]).includes(tier)) return tier as EnvironmentRecord["tier"];
  res.status(400).json({ error: "tier does not have a valid value" });
  return null;
}

function newEnvironment(
  ctx: GitLabSimContext,
  project: SimProject,
  name: string,
  externalUrl: string | null,
  tier: EnvironmentRecord["tier"] | undefined,
): EnvironmentRecord {
  const environment: EnvironmentRecord = {
    id: ctx.nextId(),
    name,
    externalUrl,
    tier: tier ?? guessTier(name),
    createdAt: timestamp(),
    edits: 0,
  };
  project.environments.set(environment.id, environment);
  return environment;
}

function findDeployment(project: SimProject, req: Request): DeploymentRecord | undefined {
  const id = Number(param(req, "deploymentId"));
  return project.deployments.find((d) => d.id === id);
}

/** An environment as GitLab's REST API returns it (condensed). */
function environmentJson(project: SimProject, e: EnvironmentRecord, ctx: GitLabSimContext): Record<string, unknown> {
  return {
    id: e.id,
    name: e.name,
    slug: e.name.toLowerCase().replace(/[^a-z0-9]+/g, "-"),
    external_url: e.externalUrl,
    state: "available",
    tier: e.tier,
    created_at: e.createdAt,
    updated_at: e.createdAt,
    project: { id: project.id, path_with_namespace: project.path, web_url: `${ctx.web}/${project.path}` },
  };
}

/** A deployment as GitLab's REST API returns it. */
function deploymentJson(project: SimProject, d: DeploymentRecord, ctx: GitLabSimContext): Record<string, unknown> {
  const environment = [...project.environments.values()].find((e) => e.name === d.environment);
  return {
    id: d.id,
    iid: d.iid,
    ref: d.ref,
    sha: d.sha,
    created_at: d.createdAt,
    updated_at: d.updatedAt,
    finished_at: d.finishedAt,
    status: d.status,
    user: userJson(ensureUser(ctx, d.user), ctx),
    deployable: null,
    environment:
      environment === undefined
        ? null
        : { id: environment.id, name: environment.name, external_url: environment.externalUrl, tier: environment.tier },
  };
}
