import express, { type Router } from "express";
import type { OAuthServer } from "../oauth-server.js";
import { sendError, type SimulatorContext } from "./context.js";
import { repoKey } from "./model.js";

/**
 * A GitHub App's user authorization, as GitHub documents it: `GET|POST /login/oauth/authorize` (the
 * consent page), `POST /login/oauth/access_token` (errors answered 200 with an `error` field:
 * `incorrect_client_credentials`, `bad_verification_code` for an unknown, used or expired code,
 * `redirect_uri_mismatch`), and, with a user token (`ghu_…`), `GET /api/v3/user` and
 * `GET /api/v3/repos/{owner}/{repo}` (404 unless the user has at least read on it).
 */
export function githubOAuthRoutes(ctx: SimulatorContext, oauth: OAuthServer, apiPrefix: string): Router {
  const router = express.Router();
  router.use(oauth.authorizePage("/login/oauth/authorize", "GitHub"));
  router.post("/login/oauth/access_token", express.urlencoded({ extended: false }), (req, res) => {
    const body = req.body as Record<string, unknown>;
    const result = oauth.exchange(body.client_id, body.client_secret, body.code, body.redirect_uri);
    if ("error" in result) return void res.json({ error: result.error, error_description: result.error });
    res.json({ access_token: result.token, token_type: "bearer", scope: "", expires_in: 28800 });
  });
  const userOf = (authorization: string | undefined) => {
    const token = /^(?:Bearer|token)\s+(ghu_\S+)$/i.exec(authorization ?? "")?.[1];
    return token === undefined ? undefined : { login: oauth.tokens.get(token) };
  };
  router.get(`${apiPrefix}/user`, (req, res, next) => {
    const user = userOf(req.get("authorization"));
    if (!user) return next();
    if (!user.login) return sendError(res, 401, "Bad credentials");
    res.json({ login: user.login, id: 5000 + user.login.length, type: "User" });
  });
  router.get(`${apiPrefix}/repos/:owner/:repo`, (req, res, next) => {
    const user = userOf(req.get("authorization"));
    if (!user) return next();
    if (!user.login) return sendError(res, 401, "Bad credentials");
    const repo = ctx.repos.get(repoKey(`${req.params.owner}/${req.params.repo}`));
    const permission = repo?.permissions.get(user.login.toLowerCase()) ?? "none";
    if (!repo || permission === "none") return sendError(res, 404, "Not Found");
    res.json({ id: repo.id, name: repo.name, full_name: repo.fullName, private: true, owner: { login: repo.owner } });
  });
  return router;
}
