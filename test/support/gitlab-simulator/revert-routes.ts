import express, { type Router } from "express";
import {
  ensureUser,
  param,
  sendMessage,
  sendNotFound,
  stringParam,
  withProject,
  type GitLabSimContext,
} from "./context.js";
import { commitJson } from "./git-queries.js";
import { mergeRequestJson, mergeRequestState } from "./json.js";

/** GitLab's answer to a revert it cannot make (docs.gitlab.com/api/commits#revert-a-commit). */
export const revertConflictMessage =
  "Sorry, we cannot revert this commit automatically. This commit may already have been reverted, or a more recent commit may have updated some of its content.";

/**
 * What a revert of a merge request needs, with real git, mounted under `/api/v4`: create and delete a
 * branch, revert a commit onto a branch (a merge commit against its first parent, as Gitaly does;
 * `dry_run` commits nothing; a conflict is GitLab's 400 with `error_code: conflict`), open a merge
 * request, and merge one (docs.gitlab.com/api/merge_requests#merge-a-merge-request: `sha` must be the
 * head, else 409; not open: 405 "Method Not Allowed"; conflicts: 406 "Branch cannot be merged"; a blocked
 * target branch: its status and message, e.g. 405 for failed merge checks or 401 for a user who may not merge).
 */
export function revertRoutes(ctx: GitLabSimContext): Router {
  const router = express.Router();

  router.post(
    "/projects/:id/repository/branches",
    withProject(ctx, async (req, res, project) => {
      const branch = stringParam(req, "branch");
      const ref = stringParam(req, "ref");
      if (branch === undefined || ref === undefined) {
        res.status(400).json({ error: `${branch === undefined ? "branch" : "ref"} is missing` });
        return;
      }
      if ((await project.git.resolve(`refs/heads/${branch}`)) !== undefined) {
        sendMessage(res, 400, "Branch already exists");
        return;
      }
      const sha = await project.git.resolve(ref);
      if (sha === undefined) {
        sendMessage(res, 400, "Invalid reference name: " + ref);
        return;
      }
      await project.git.branch(branch, sha);
      const web = `${ctx.web}/${project.path}`;
      res.status(201).json({
        name: branch,
        commit: await commitJson(project.git, sha, web),
        merged: false,
        protected: false,
        default: false,
        can_push: true,
        web_url: `${web}/-/tree/${branch}`,
      });
    }),
  );

  router.delete(
    "/projects/:id/repository/branches/:branch",
    withProject(ctx, async (req, res, project) => {
      const branch = param(req, "branch");
      if ((await project.git.resolve(`refs/heads/${branch}`)) === undefined) {
        sendNotFound(res, "Branch");
        return;
      }
      await project.git.deleteBranch(branch);
      res.status(204).end();
    }),
  );

  router.post(
    "/projects/:id/repository/commits/:sha/revert",
    withProject(ctx, async (req, res, project) => {
      const sha = await project.git.resolve(param(req, "sha"));
      const branch = stringParam(req, "branch");
      if (branch === undefined) {
        res.status(400).json({ error: "branch is missing" });
        return;
      }
      if (sha === undefined) {
        sendNotFound(res, "Commit");
        return;
      }
      if ((await project.git.resolve(`refs/heads/${branch}`)) === undefined) {
        sendNotFound(res, "Branch");
        return;
      }
      const dryRun = String(stringParam(req, "dry_run")) === "true";
      const scratch = `sim-dry-run-${ctx.nextId()}`;
      if (dryRun) await project.git.branch(scratch, `refs/heads/${branch}`);
      const reverted = await project.git.revertOnto(dryRun ? scratch : branch, sha);
      if (dryRun) await project.git.deleteBranch(scratch);
      if ("conflict" in reverted) {
        res.status(400).json({ message: revertConflictMessage, error_code: "conflict" });
        return;
      }
      if (dryRun) {
        res.status(200).json({ dry_run: "success" });
        return;
      }
      res.status(201).json(await commitJson(project.git, reverted.sha, `${ctx.web}/${project.path}`));
    }),
  );

  router.post(
    "/projects/:id/merge_requests",
    withProject(ctx, async (req, res, project, user) => {
      const source = stringParam(req, "source_branch");
      const target = stringParam(req, "target_branch");
      const title = stringParam(req, "title");
      if (source === undefined || target === undefined || title === undefined) {
        res.status(400).json({ error: "source_branch, target_branch and title are required" });
        return;
      }
      const sha = await project.git.resolve(`refs/heads/${source}`);
      if (sha === undefined || (await project.git.resolve(`refs/heads/${target}`)) === undefined) {
        sendMessage(res, 400, ["Source branch or target branch does not exist"]);
        return;
      }
      const open = [...project.mergeRequests.values()].find(
        (mr) => mr.sourceBranch === source && mergeRequestState(mr) === "opened",
      );
      if (open !== undefined) {
        sendMessage(res, 409, [`Another open merge request already exists for this source branch: !${open.iid}`]);
        return;
      }
      const iid = Math.max(0, ...project.mergeRequests.keys()) + 1;
      const description = stringParam(req, "description");
      const mr = {
        iid,
        sourceBranch: source,
        targetBranch: target,
        sha,
        author: user.username,
        state: "opened" as const,
        title,
        ...(description === undefined ? {} : { description }),
      };
      project.mergeRequests.set(iid, mr);
      res.status(201).json(mergeRequestJson(project, mr, user, ctx));
    }),
  );

  router.put(
    "/projects/:id/merge_requests/:iid/merge",
    withProject(ctx, async (req, res, project) => {
      const mr = project.mergeRequests.get(Number(param(req, "iid")));
      if (mr === undefined) {
        sendNotFound(res, "Merge Request");
        return;
      }
      if (mergeRequestState(mr) !== "opened") {
        sendMessage(res, 405, "405 Method Not Allowed");
        return;
      }
      const sha = stringParam(req, "sha");
      if (sha !== undefined && sha !== mr.sha) {
        sendMessage(res, 409, `SHA does not match HEAD of source branch: ${mr.sha}`);
        return;
      }
      const blocked = project.mergeBlocks.get(mr.targetBranch);
      if (blocked !== undefined) {
        sendMessage(res, blocked.status, blocked.message);
        return;
      }
      let merged: string;
      try {
        merged = await project.git.merge(
          mr.sourceBranch,
          mr.targetBranch,
          `Merge branch '${mr.sourceBranch}' into '${mr.targetBranch}'\n\n${mr.title ?? ""}\n\nSee merge request ${project.path}!${mr.iid}`,
        );
      } catch {
        sendMessage(res, 406, "Branch cannot be merged");
        return;
      }
      Object.assign(mr, { state: "merged", mergeCommitSha: merged });
      res.json(mergeRequestJson(project, mr, ensureUser(ctx, mr.author), ctx));
    }),
  );

  return router;
}
