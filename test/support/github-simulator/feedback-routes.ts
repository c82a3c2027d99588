import express, { type Request, type Response, type Router } from "express";
import {
  orNotFound,
  param,
  permitted,
  sendError,
  sendPage,
  sendValidationFailed,
  withRepo,
  type Needs,
  type SimulatorContext,
} from "./context.js";
import { commentJson, repoJson, statusJson, timestamp } from "./json.js";
import {
  reactionContents,
  statusStates,
  type CommentRecord,
  type SimRepo,
  type StatusRecord,
  type StatusState,
} from "./model.js";

/** GitHub's limit on an issue comment body. */
export const maxCommentLength = 65536;
/** GitHub's limit on a commit status description. */
const maxDescriptionLength = 140;

/**
 * Commit status, issue comment and reaction endpoints, mounted under `/api/v3`, each refused with
 * 403 when the installation lacks the permission GitHub documents for it: `statuses` for statuses;
 * `issues` for an issue's comments, `issues` or `pull_requests` for a pull request's.
 */
export function feedbackRoutes(ctx: SimulatorContext): Router {
  const router = express.Router();
  const bot = `${ctx.appSlug}[bot]`;
  const statuses = (access: Needs["access"]): Needs => ({ anyOf: ["statuses"], access });
  const comments = (access: Needs["access"]): Needs => ({ anyOf: ["issues", "pull_requests"], access });

  router.post(
    "/repos/:owner/:repo/statuses/:sha",
    withRepo(
      ctx,
      async (req, res, repo) => {
        const body = objectBody(req);
        const sha = await commitOf(req, res, repo, "sha", 422);
        if (sha === undefined) return;
        const state = body["state"];
        if (!isStatusState(state)) {
          sendValidationFailed(res, "Status", "state", "custom", "state is not included in the list");
          return;
        }
        const description = optionalString(body["description"]);
        if (description !== null && description.length > maxDescriptionLength) {
          sendValidationFailed(
            res,
            "Status",
            "description",
            "custom",
            `description is too long (maximum is ${maxDescriptionLength} characters)`,
          );
          return;
        }
        const status: StatusRecord = {
          id: ctx.nextId(),
          sha,
          state,
          context: optionalString(body["context"]) ?? "default",
          description,
          target_url: optionalString(body["target_url"]),
          created_at: timestamp(),
          creator: bot,
        };
        repo.statuses.push(status);
        res.status(201).json(statusJson(repo, status, ctx.urls));
      },
      statuses("write"),
    ),
  );

  router.get(
    "/repos/:owner/:repo/commits/*ref/statuses",
    withRepo(
      ctx,
      async (req, res, repo) => {
        const sha = await commitOf(req, res, repo, "ref", 404);
        if (sha === undefined) return;
        const newestFirst = repo.statuses.filter((s) => s.sha === sha).reverse();
        sendPage(
          req,
          res,
          ctx,
          newestFirst.map((s) => statusJson(repo, s, ctx.urls)),
        );
      },
      statuses("read"),
    ),
  );

  router.get(
    "/repos/:owner/:repo/commits/*ref/status",
    withRepo(
      ctx,
      async (req, res, repo) => {
        const sha = await commitOf(req, res, repo, "ref", 404);
        if (sha === undefined) return;
        const latest = latestPerContext(repo.statuses.filter((s) => s.sha === sha));
        res.json({
          state: combinedState(latest),
          statuses: latest.map((s) => statusJson(repo, s, ctx.urls)),
          sha,
          total_count: latest.length,
          repository: repoJson(repo, ctx.urls),
          commit_url: `${ctx.urls.api}/repos/${repo.fullName}/commits/${sha}`,
          url: `${ctx.urls.api}/repos/${repo.fullName}/commits/${sha}/status`,
        });
      },
      statuses("read"),
    ),
  );

  router.get(
    "/repos/:owner/:repo/issues/:number/comments",
    withRepo(ctx, (req, res, repo) => {
      const number = Number(param(req, "number"));
      if (!commentable(ctx, res, repo, number, "read")) return;
      const comments = repo.comments.filter((c) => c.issueNumber === number);
      sendPage(
        req,
        res,
        ctx,
        comments.map((c) => commentJson(repo, c, ctx.urls)),
      );
    }),
  );

  router.post(
    "/repos/:owner/:repo/issues/:number/comments",
    withRepo(ctx, (req, res, repo) => {
      const number = Number(param(req, "number"));
      if (!commentable(ctx, res, repo, number, "write")) return;
      const body = validCommentBody(req, res);
      if (body === undefined) return;
      const now = timestamp();
      const comment: CommentRecord = {
        id: ctx.nextId(),
        issueNumber: number,
        body,
        user: bot,
        edits: 0,
        reactions: [],
        created_at: now,
        updated_at: now,
      };
      repo.comments.push(comment);
      res.status(201).json(commentJson(repo, comment, ctx.urls));
    }),
  );

  router.get(
    "/repos/:owner/:repo/issues/comments/:id",
    withRepo(
      ctx,
      (req, res, repo) => {
        const comment = findComment(req, res, repo);
        if (comment === undefined) return;
        res.json(commentJson(repo, comment, ctx.urls));
      },
      comments("read"),
    ),
  );

  router.patch(
    "/repos/:owner/:repo/issues/comments/:id",
    withRepo(
      ctx,
      (req, res, repo) => {
        const comment = findComment(req, res, repo);
        if (comment === undefined) return;
        const body = validCommentBody(req, res);
        if (body === undefined) return;
        comment.body = body;
        comment.edits += 1;
        comment.updated_at = timestamp();
        res.json(commentJson(repo, comment, ctx.urls));
      },
      comments("write"),
    ),
  );

  router.post(
    "/repos/:owner/:repo/issues/comments/:id/reactions",
    withRepo(
      ctx,
      (req, res, repo) => {
        const comment = findComment(req, res, repo);
        if (comment === undefined) return;
        const content = objectBody(req)["content"];
        if (typeof content !== "string" || !(reactionContents as readonly string[]).includes(content)) {
          sendValidationFailed(res, "Reaction", "content", "invalid");
          return;
        }
        // Reacting twice with the same content returns the existing reaction with 200, as GitHub does.
        const existed = comment.reactions.includes(content);
        if (!existed) comment.reactions.push(content);
        res.status(existed ? 200 : 201).json({
          id: comment.id * 100 + reactionContents.indexOf(content as (typeof reactionContents)[number]),
          node_id: Buffer.from(`08:Reaction${comment.id}:${content}`).toString("base64"),
          user: { login: bot, type: "Bot" },
          content,
          created_at: timestamp(),
        });
      },
      comments("write"),
    ),
  );

  return router;
}

/**
 * Whether issue or pull request `number` exists and the installation may read or write its comments
 * (an issue's need `issues`; a pull request's `issues` or `pull_requests`); answers 404 or 403 when not.
 */
function commentable(
  ctx: SimulatorContext,
  res: Response,
  repo: SimRepo,
  number: number,
  access: Needs["access"],
): boolean {
  if (repo.issues.has(number)) return permitted(ctx, res, repo, { anyOf: ["issues"], access });
  if (repo.pulls.has(number)) return permitted(ctx, res, repo, { anyOf: ["issues", "pull_requests"], access });
  sendError(res, 404, "Not Found");
  return false;
}

/** The latest status of each context, most recent first, as the combined status lists them. */
function latestPerContext(statuses: StatusRecord[]): StatusRecord[] {
  const byContext = new Map<string, StatusRecord>();
  for (const status of statuses) byContext.set(status.context, status);
  return [...byContext.values()].reverse();
}

/** GitHub's combined state: failure if any error/failure, pending if none or any pending, else success. */
function combinedState(latest: StatusRecord[]): StatusState {
  if (latest.some((s) => s.state === "error" || s.state === "failure")) return "failure";
  if (latest.length === 0 || latest.some((s) => s.state === "pending")) return "pending";
  return "success";
}

/** Comment `:id`, or undefined after answering 404. */
function findComment(req: Request, res: Response, repo: SimRepo): CommentRecord | undefined {
  return orNotFound(
    res,
    repo.comments.find((c) => String(c.id) === param(req, "id")),
  );
}

/** The commit `:name` names, or undefined after answering `status` "No commit found" as GitHub does (404 on a read, 422 on a write). */
async function commitOf(
  req: Request,
  res: Response,
  repo: SimRepo,
  name: "sha" | "ref",
  status: 404 | 422,
): Promise<string | undefined> {
  const sha = await repo.git.resolve(param(req, name));
  if (sha === undefined) sendError(res, status, `No commit found for SHA: ${param(req, name)}`);
  return sha;
}

/** The comment body of a create/update request, or undefined after sending the 422 GitHub sends. */
function validCommentBody(req: Request, res: Response): string | undefined {
  const body = objectBody(req)["body"];
  if (typeof body !== "string" || body.length === 0) {
    sendValidationFailed(res, "IssueComment", "body", "missing_field");
    return undefined;
  }
  if (body.length > maxCommentLength) {
    sendValidationFailed(
      res,
      "IssueComment",
      "data",
      "unprocessable",
      `Body is too long (maximum is ${maxCommentLength} characters)`,
    );
    return undefined;
  }
  return body;
}

/** The JSON body of a request as an object (empty when it is none). */
export function objectBody(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  return typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

function optionalString(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

function isStatusState(value: unknown): value is StatusState {
  return typeof value === "string" && (statusStates as readonly string[]).includes(value);
}
