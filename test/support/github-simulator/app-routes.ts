import express, { type Request, type RequestHandler, type Response, type Router } from "express";
import { param, permissionsOf, sendError, type SimulatorContext } from "./context.js";
import { userJson } from "./json.js";
import { defaultInstallationPermissions, repoKey } from "./model.js";

/** Endpoints that authenticate as the app itself (JWT), mounted under `/api/v3`. */
export function appRoutes(ctx: SimulatorContext): Router {
  const router = express.Router();

  const asApp =
    (handler: (req: Request, res: Response) => void): RequestHandler =>
    (req, res) => {
      const check = ctx.auth.verifyJwt(req.get("authorization"));
      if (!check.ok) {
        sendError(res, 401, check.message);
        return;
      }
      handler(req, res);
    };

  const installationJson = (id: number, owner: string): Record<string, unknown> => ({
    id,
    account: userJson(owner, ctx.urls),
    repository_selection: "all",
    access_tokens_url: `${ctx.urls.api}/app/installations/${id}/access_tokens`,
    repositories_url: `${ctx.urls.api}/installation/repositories`,
    html_url: `${ctx.urls.web}/settings/installations/${id}`,
    app_id: ctx.auth.appId,
    app_slug: ctx.appSlug,
    target_id: userJson(owner, ctx.urls)["id"],
    target_type: "Organization",
    permissions: permissionsOf(ctx, id),
    events: ["pull_request", "push", "issue_comment"],
    created_at: "2024-01-01T00:00:00Z",
    updated_at: "2024-01-01T00:00:00Z",
    single_file_name: null,
    suspended_at: null,
  });

  router.get(
    "/app",
    asApp((_req, res) => {
      res.json({
        id: ctx.auth.appId,
        slug: ctx.appSlug,
        node_id: Buffer.from(`03:Integration${ctx.auth.appId}`).toString("base64"),
        owner: userJson("ferry-owner", ctx.urls),
        name: ctx.appSlug,
        description: "Simulated GitHub App",
        external_url: ctx.urls.web,
        html_url: `${ctx.urls.web}/github-apps/${ctx.appSlug}`,
        created_at: "2024-01-01T00:00:00Z",
        updated_at: "2024-01-01T00:00:00Z",
        permissions: defaultInstallationPermissions,
        events: ["pull_request", "push", "issue_comment"],
        installations_count: new Set([...ctx.repos.values()].map((r) => r.installationId)).size,
      });
    }),
  );

  router.get(
    "/repos/:owner/:repo/installation",
    asApp((req, res) => {
      const repo = ctx.repos.get(repoKey(`${param(req, "owner")}/${param(req, "repo")}`));
      if (repo === undefined) {
        sendError(res, 404, "Not Found");
        return;
      }
      res.json(installationJson(repo.installationId, repo.owner));
    }),
  );

  router.post(
    "/app/installations/:id/access_tokens",
    asApp((req, res) => {
      const id = Number(param(req, "id"));
      const repos = [...ctx.repos.values()].filter((r) => r.installationId === id);
      if (repos.length === 0) {
        sendError(res, 404, "Not Found");
        return;
      }
      const issued = ctx.auth.issueToken(id);
      res.status(201).json({
        token: issued.token,
        expires_at: issued.expiresAt.toISOString().replace(/\.\d{3}Z$/, "Z"),
        permissions: permissionsOf(ctx, id),
        repository_selection: "all",
      });
    }),
  );

  return router;
}
