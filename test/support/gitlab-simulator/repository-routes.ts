import express, { type Router } from "express";
import {
  ensureUser,
  param,
  sendNotFound,
  sendPage,
  stringParam,
  withProject,
  type GitLabSimContext,
} from "./context.js";
import { commitJson } from "./git-queries.js";
import { mergeRequestJson } from "./json.js";

/** Repository endpoints: branches, archives and a commit's merge requests, mounted under `/api/v4`. */
export function repositoryRoutes(ctx: GitLabSimContext): Router {
  const router = express.Router();

  router.get(
    "/projects/:id/repository/branches/:branch",
    withProject(ctx, async (req, res, project) => {
      const branch = param(req, "branch");
      const sha = await project.git.resolve(`refs/heads/${branch}`);
      if (sha === undefined) {
        sendNotFound(res, "Branch");
        return;
      }
      const web = `${ctx.web}/${project.path}`;
      res.json({
        name: branch,
        commit: await commitJson(project.git, sha, web),
        merged: false,
        protected: branch === "main",
        developers_can_push: false,
        developers_can_merge: false,
        can_push: true,
        default: branch === "main",
        web_url: `${web}/-/tree/${branch}`,
      });
    }),
  );

  // Workhorse streams `git archive` with the prefix `<project path>-<ref>-<sha>/`.
  router.get(
    ["/projects/:id/repository/archive", "/projects/:id/repository/archive.tar.gz"],
    withProject(ctx, async (req, res, project) => {
      const ref = stringParam(req, "sha") ?? "main";
      const sha = await project.git.resolve(ref);
      if (sha === undefined) {
        sendNotFound(res, "File");
        return;
      }
      const prefix = `${project.name}-${ref.replaceAll("/", "-")}-${sha}`;
      const bytes = project.archives.get(sha) ?? (await project.git.archive(sha, prefix));
      res
        .status(200)
        .set("content-type", "application/octet-stream")
        .set("content-disposition", `attachment; filename="${prefix}.tar.gz"`)
        .set("content-transfer-encoding", "binary")
        .send(bytes);
    }),
  );

  router.get(
    "/projects/:id/repository/commits/:sha/merge_requests",
    withProject(ctx, async (req, res, project) => {
      const sha = await project.git.resolve(param(req, "sha"));
      if (sha === undefined) {
        sendNotFound(res, "Commit");
        return;
      }
      const related = [...project.mergeRequests.values()].filter((mr) =>
        [mr.sha, mr.mergeCommitSha, mr.squashCommitSha].includes(sha),
      );
      sendPage(
        req,
        res,
        ctx,
        related.map((mr) => mergeRequestJson(project, mr, ensureUser(ctx, mr.author), ctx)),
      );
    }),
  );

  return router;
}
