import express, { type Router } from "express";
import type { OAuthServer } from "../oauth-server.js";
import { findProject, param, sendNotFound, withUser, type GitLabSimContext } from "./context.js";

/**
 * A GitLab OAuth application, as GitLab documents it: `GET|POST /oauth/authorize` (the consent
 * page), `POST /oauth/token` (`grant_type=authorization_code`; a refused exchange is a 400 or 401
 * with `error`: `invalid_client` for wrong credentials, `invalid_grant` for an unknown, used or
 * expired code or another redirect_uri), tokens that act as the user on `/api/v4`, and
 * `GET /api/v4/projects/:id` (404 unless the user is a member).
 */
export function gitlabOAuthRoutes(ctx: GitLabSimContext, oauth: OAuthServer, apiPrefix: string): Router {
  const router = express.Router();
  router.use(oauth.authorizePage("/oauth/authorize", "GitLab"));
  router.post("/oauth/token", express.urlencoded({ extended: false }), (req, res) => {
    const body = req.body as Record<string, unknown>;
    if (body.grant_type !== "authorization_code") return void res.status(400).json({ error: "unsupported_grant_type" });
    const result = oauth.exchange(body.client_id, body.client_secret, body.code, body.redirect_uri);
    if ("error" in result) {
      const invalidClient = result.error === "incorrect_client_credentials";
      return void res.status(invalidClient ? 401 : 400).json({
        error: invalidClient ? "invalid_client" : "invalid_grant",
        error_description:
          "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.",
      });
    }
    // Tokens act as their user on the API, as any GitLab token does.
    ctx.tokens.set(result.token, oauth.tokens.get(result.token) ?? "");
    res.json({ access_token: result.token, token_type: "Bearer", expires_in: 7200, scope: "read_api", created_at: 0 });
  });
  router.get(
    `${apiPrefix}/projects/:id`,
    withUser(ctx, (req, res, user) => {
      const project = findProject(ctx, param(req, "id"));
      if (!project || !project.members.has(user.username.toLowerCase())) return sendNotFound(res, "Project");
      res.json({ id: project.id, path_with_namespace: project.path, name: project.path.split("/").at(-1) });
    }),
  );
  return router;
}
