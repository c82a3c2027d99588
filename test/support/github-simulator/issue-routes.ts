import express, { type Request, type Response, type Router } from "express";
import {
  param,
  sendError,
  sendPage,
  sendValidationFailed,
  withRepo,
  type Needs,
  type SimulatorContext,
} from "./context.js";
import { maxCommentLength, objectBody } from "./feedback-routes.js";
import { issueJson, pullAsIssueJson, timestamp } from "./json.js";
import type { IssueRecord, PullRequestInput, SimRepo } from "./model.js";

/** GitHub's limit on an issue body: the same 65,536 characters as a comment's. */
export const maxIssueBodyLength = maxCommentLength;

/** Reasons `PATCH` accepts in `state_reason`. */
const stateReasons = ["completed", "not_planned", "duplicate", "reopened"];

/**
 * The issues endpoints of docs.github.com/rest/issues/issues, mounted under `/api/v3`: list (pull
 * requests included, as GitHub lists them), create, get and update. Reads need the installation's
 * `issues: read`, writes `issues: write` (403 "Resource not accessible by integration" otherwise);
 * creating an issue in a repository with Issues off answers 410; labels named on create or update
 * are created in the repository when missing.
 */
export function issueRoutes(ctx: SimulatorContext): Router {
  const router = express.Router();
  const bot = `${ctx.appSlug}[bot]`;
  const issues = (access: Needs["access"]): Needs => ({ anyOf: ["issues"], access });

  router.get(
    "/repos/:owner/:repo/issues",
    withRepo(
      ctx,
      (req, res, repo) => {
        const state = query(req, "state") ?? "open";
        const labels = (query(req, "labels") ?? "")
          .split(",")
          .map((l) => l.trim().toLowerCase())
          .filter((l) => l !== "");
        const creator = query(req, "creator")?.toLowerCase();
        const listed = [
          ...[...repo.issues.values()].map((issue) => ({
            number: issue.number,
            state: issue.state,
            user: issue.user,
            labels: issue.labels,
            json: () => issueJson(repo, issue, bot, ctx.urls),
          })),
          ...[...repo.pulls.values()].map((pr) => ({
            number: pr.number,
            state: pullState(pr),
            user: pr.user,
            labels: pr.labels ?? [],
            json: () => pullAsIssueJson(repo, pr, ctx.urls),
          })),
        ].filter(
          (item) =>
            (state === "all" || item.state === state) &&
            (creator === undefined || item.user.toLowerCase() === creator) &&
            labels.every((wanted) => item.labels.some((l) => l.toLowerCase() === wanted)),
        );
        // Numbers are handed out in creation order, so they sort as `sort=created` does.
        const direction = query(req, "direction") === "asc" ? 1 : -1;
        listed.sort((a, b) => direction * (a.number - b.number));
        sendPage(
          req,
          res,
          ctx,
          listed.map((item) => item.json()),
        );
      },
      issues("read"),
    ),
  );

  router.post(
    "/repos/:owner/:repo/issues",
    withRepo(
      ctx,
      (req, res, repo) => {
        if (!repo.issuesEnabled) {
          sendError(res, 410, "Issues are disabled for this repo");
          return;
        }
        const body = objectBody(req);
        const title = validTitle(res, body["title"]);
        const text = title === undefined ? undefined : validBody(res, body["body"] ?? null);
        const labels = text === undefined ? undefined : validLabels(res, body["labels"] ?? []);
        if (title === undefined || text === undefined || labels === undefined) return;
        const now = timestamp();
        const issue: IssueRecord = {
          number: nextIssueNumber(repo),
          title,
          body: text,
          user: bot,
          state: "open",
          stateReason: null,
          labels: ensureLabels(ctx, repo, labels),
          edits: 0,
          created_at: now,
          updated_at: now,
          closed_at: null,
        };
        repo.issues.set(issue.number, issue);
        res
          .status(201)
          .set("location", `${ctx.urls.api}/repos/${repo.fullName}/issues/${issue.number}`)
          .json(issueJson(repo, issue, bot, ctx.urls));
      },
      issues("write"),
    ),
  );

  router.get(
    "/repos/:owner/:repo/issues/:number",
    withRepo(
      ctx,
      (req, res, repo) => {
        const number = Number(param(req, "number"));
        const issue = repo.issues.get(number);
        const pr = repo.pulls.get(number);
        if (issue !== undefined) res.json(issueJson(repo, issue, bot, ctx.urls));
        else if (pr !== undefined) res.json(pullAsIssueJson(repo, pr, ctx.urls));
        else sendError(res, 404, "Not Found");
      },
      issues("read"),
    ),
  );

  router.patch(
    "/repos/:owner/:repo/issues/:number",
    withRepo(
      ctx,
      (req, res, repo) => {
        const issue = repo.issues.get(Number(param(req, "number")));
        if (issue === undefined) {
          sendError(res, 404, "Not Found");
          return;
        }
        const body = objectBody(req);
        const title = "title" in body ? validTitle(res, body["title"]) : issue.title;
        const text = title === undefined ? undefined : "body" in body ? validBody(res, body["body"]) : issue.body;
        const labels =
          text === undefined ? undefined : "labels" in body ? validLabels(res, body["labels"]) : issue.labels;
        if (title === undefined || text === undefined || labels === undefined) return;
        const state = body["state"] ?? issue.state;
        if (state !== "open" && state !== "closed") {
          sendValidationFailed(res, "Issue", "state", "invalid");
          return;
        }
        const reason = body["state_reason"];
        if (reason !== undefined && reason !== null && (typeof reason !== "string" || !stateReasons.includes(reason))) {
          sendValidationFailed(res, "Issue", "state_reason", "invalid");
          return;
        }
        const now = timestamp();
        if (title !== issue.title || text !== issue.body) issue.edits += 1;
        // The reason is "ignored unless `state` is changed"; closing a closed issue changes nothing.
        if (state !== issue.state) {
          issue.stateReason = typeof reason === "string" ? reason : state === "closed" ? "completed" : "reopened";
          issue.closed_at = state === "closed" ? now : null;
        }
        Object.assign(issue, { title, body: text, state, labels: ensureLabels(ctx, repo, labels), updated_at: now });
        res.json(issueJson(repo, issue, bot, ctx.urls));
      },
      issues("write"),
    ),
  );

  return router;
}

/** The next number an issue gets: issues and pull requests share one sequence. */
export function nextIssueNumber(repo: SimRepo): number {
  return Math.max(0, ...repo.issues.keys(), ...repo.pulls.keys()) + 1;
}

/** The labels' names as the repository spells them, creating those it lacks (as GitHub does on create and update). */
export function ensureLabels(ctx: SimulatorContext, repo: SimRepo, names: string[]): string[] {
  return [...new Set(names)].map((name) => {
    const key = name.toLowerCase();
    let label = repo.labels.get(key);
    if (label === undefined) {
      label = { id: ctx.nextId(), name, color: "ededed" };
      repo.labels.set(key, label);
    }
    return label.name;
  });
}

function pullState(pr: PullRequestInput): "open" | "closed" {
  return pr.state ?? (pr.merged === true ? "closed" : "open");
}

function query(req: Request, name: string): string | undefined {
  const value = req.query[name];
  return typeof value === "string" ? value : undefined;
}

/** A title (GitHub takes a string or a number), or undefined after the 422 GitHub sends for a missing one. */
function validTitle(res: Response, title: unknown): string | undefined {
  if ((typeof title !== "string" && typeof title !== "number") || String(title).trim() === "") {
    sendValidationFailed(res, "Issue", "title", "missing_field");
    return undefined;
  }
  return String(title);
}

/** A body (null for none), or undefined after the 422 GitHub sends for one too long. */
function validBody(res: Response, body: unknown): string | null | undefined {
  if (body === null) return null;
  if (typeof body !== "string") {
    sendValidationFailed(res, "Issue", "body", "invalid");
    return undefined;
  }
  if (body.length > maxIssueBodyLength) {
    sendValidationFailed(
      res,
      "Issue",
      "body",
      "custom",
      `body is too long (maximum is ${maxIssueBodyLength} characters)`,
    );
    return undefined;
  }
  return body;
}

/** Label names from strings or `{name}` objects, or undefined after a 422. */
function validLabels(res: Response, labels: unknown): string[] | undefined {
  const names = Array.isArray(labels)
    ? labels.map((l: unknown) =>
        typeof l === "string"
          ? l
          : typeof l === "object" && l !== null && "name" in l && typeof l.name === "string"
            ? l.name
            : undefined,
      )
    : [undefined];
  if (names.some((n) => n === undefined || n.trim() === "")) {
    sendValidationFailed(res, "Label", "name", "invalid");
    return undefined;
  }
  return names as string[];
}
