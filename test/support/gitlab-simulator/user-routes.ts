import express, { type Router } from "express";
import { param, sendMessage, sendPage, stringParam, withProject, withUser, type GitLabSimContext } from "./context.js";
import { memberJson, userJson } from "./json.js";

/** The token's user, user search and project membership, mounted under `/api/v4`. */
export function userRoutes(ctx: GitLabSimContext): Router {
  const router = express.Router();

  router.get(
    "/user",
    withUser(ctx, (_req, res, user) => {
      res.json({ ...userJson(user, ctx), bot: user.bot, created_at: "2024-01-01T00:00:00.000Z", is_admin: false });
    }),
  );

  // GitLab answers an unknown username with an empty list, not 404.
  router.get(
    "/users",
    withUser(ctx, (req, res) => {
      const username = stringParam(req, "username")?.toLowerCase();
      const users = [...ctx.users.values()].filter(
        (u) => username === undefined || u.username.toLowerCase() === username,
      );
      sendPage(
        req,
        res,
        ctx,
        users.map((u) => userJson(u, ctx)),
      );
    }),
  );

  router.get(
    "/users/:user_id",
    withUser(ctx, (req, res) => {
      const user = [...ctx.users.values()].find((u) => String(u.id) === param(req, "user_id"));
      if (user === undefined) {
        sendMessage(res, 404, "404 User Not Found");
        return;
      }
      res.json(userJson(user, ctx));
    }),
  );

  // Direct and inherited membership are the same here: the simulator has no groups.
  router.get(
    ["/projects/:id/members/all/:user_id", "/projects/:id/members/:user_id"],
    withProject(ctx, (req, res, project) => {
      const user = [...ctx.users.values()].find((u) => String(u.id) === param(req, "user_id"));
      const level = user === undefined ? undefined : project.members.get(user.username.toLowerCase());
      if (user === undefined || level === undefined) {
        sendMessage(res, 404, "404 Not found");
        return;
      }
      res.json(memberJson(user, level, ctx));
    }),
  );

  return router;
}
