import express, { type Router } from "express";
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
import { branchesContaining } from "./git-queries.js";
import { statusJson } from "./json.js";
import { postableStates, type CommitStatusObject, type PostableState, type SimProject } from "./model.js";
import { applyPostedState } from "./status-machine.js";

/**
 * Commit status endpoints, mounted under `/api/v4`. Posting works as GitLab's API does: it finds
 * the pending or running status of the same (sha, ref, name, user) or starts a new one in
 * `created`, then fires the state machine's events; an impossible transition is answered 400 with
 * GitLab's message and recorded in `stateMachineErrors`.
 */
export function statusRoutes(ctx: GitLabSimContext): Router {
  const router = express.Router();

  router.post(
    "/projects/:id/statuses/:sha",
    withProject(ctx, async (req, res, project, user) => {
      const sha = await project.git.resolve(param(req, "sha"));
      if (sha === undefined) {
        sendNotFound(res, "Commit");
        return;
      }
      const posted = stringParam(req, "state");
      if (!isPostable(posted)) {
        res
          .status(400)
          .json({ error: posted === undefined ? "state is missing" : "state does not have a valid value" });
        return;
      }
      const ref = stringParam(req, "ref") ?? (await branchesContaining(project.git, sha))[0];
      if (ref === undefined) {
        sendNotFound(res, "References for commit");
        return;
      }
      const name = stringParam(req, "name") ?? stringParam(req, "context") ?? "default";
      const existing = project.statuses.find(
        (s) =>
          s.sha === sha &&
          s.ref === ref &&
          s.name === name &&
          s.author === user.username &&
          (s.status === "pending" || s.status === "running"),
      );
      const status = existing ?? newStatus(ctx, project, { sha, ref, name, author: user.username });
      const outcome = applyPostedState(status.status, posted);
      if (!outcome.ok) {
        ctx.stateMachineErrors.push({
          project: project.path,
          sha,
          name,
          from: status.status,
          requested: posted,
          message: outcome.message,
        });
        sendMessage(res, 400, outcome.message);
        return;
      }
      const given = params(req);
      if (typeof given["description"] === "string") status.description = given["description"];
      if (typeof given["target_url"] === "string") status.targetUrl = given["target_url"];
      status.status = outcome.state;
      if (outcome.state === "running") status.startedAt = timestamp();
      if (!["pending", "running"].includes(outcome.state)) status.finishedAt = timestamp();
      if (existing === undefined) project.statuses.push(status);
      project.statusLog.push({
        id: status.id,
        sha,
        name,
        status: status.status,
        description: status.description,
        targetUrl: status.targetUrl,
        ref,
        author: user.username,
      });
      res.status(201).json(statusJson(status, user, ctx));
    }),
  );

  router.get(
    "/projects/:id/repository/commits/:sha/statuses",
    withProject(ctx, async (req, res, project) => {
      const sha = await project.git.resolve(param(req, "sha"));
      if (sha === undefined) {
        sendNotFound(res, "Commit");
        return;
      }
      const filter = { ref: stringParam(req, "ref"), name: stringParam(req, "name") };
      const all = stringParam(req, "all") === "true";
      const statuses = project.statuses.filter(
        (s) =>
          s.sha === sha &&
          (filter.ref === undefined || s.ref === filter.ref) &&
          (filter.name === undefined || s.name === filter.name) &&
          (all || isLatest(project, s)),
      );
      sendPage(
        req,
        res,
        ctx,
        statuses.map((s) => statusJson(s, ensureUser(ctx, s.author), ctx)),
      );
    }),
  );

  return router;
}

/** A new status in `created`, on the pipeline of (sha, ref), which is made on first use. */
function newStatus(
  ctx: GitLabSimContext,
  project: SimProject,
  key: { sha: string; ref: string; name: string; author: string },
): CommitStatusObject {
  const pipelineKey = `${key.sha} ${key.ref}`;
  let pipelineId = project.pipelines.get(pipelineKey);
  if (pipelineId === undefined) {
    pipelineId = ctx.nextId();
    project.pipelines.set(pipelineKey, pipelineId);
  }
  return {
    id: ctx.nextId(),
    ...key,
    status: "created",
    description: null,
    targetUrl: null,
    pipelineId,
    createdAt: timestamp(),
    startedAt: null,
    finishedAt: null,
  };
}

/** Whether no newer status of the same sha, ref and name exists (older ones count as retried). */
function isLatest(project: SimProject, status: CommitStatusObject): boolean {
  return !project.statuses.some(
    (s) => s.id > status.id && s.sha === status.sha && s.ref === status.ref && s.name === status.name,
  );
}

function isPostable(state: string | undefined): state is PostableState {
  return state !== undefined && (postableStates as readonly string[]).includes(state);
}
