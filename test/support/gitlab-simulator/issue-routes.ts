import express, { type Request, type Response, type Router } from "express";
import {
  ensureUser,
  param,
  params,
  sendMessage,
  sendPage,
  stringParam,
  timestamp,
  withProject,
  type GitLabSimContext,
} from "./context.js";
import { issueJson } from "./json.js";
import { addNote, sendNotes } from "./notes.js";
import { accessLevels, type IssueRecord, type SimProject, type SimUser } from "./model.js";

/** GitLab's limit on an issue title (Issuable's `TITLE_LENGTH_MAX`). */
export const maxIssueTitleLength = 255;

/** GitLab's limit on an issue description, in bytes (Issuable's `DESCRIPTION_LENGTH_MAX = 1.megabyte`, checked on bytesize). */
export const maxIssueDescriptionBytes = 1_048_576;

/**
 * The issue and issue note endpoints of docs.gitlab.com/api/issues and api/notes, mounted under
 * `/api/v4`: list (filtered by state, labels, author), create, show, edit (with `state_event`), and
 * an issue's notes. Titles and descriptions are validated as GitLab's Issuable validates them;
 * labels named on create or edit are created in the project when missing; only the author or a
 * member with Reporter or above may edit an issue.
 */
export function issueRoutes(ctx: GitLabSimContext): Router {
  const router = express.Router();

  router.get(
    "/projects/:id/issues",
    withProject(ctx, (req, res, project) => {
      const state = stringParam(req, "state") ?? "all";
      if (!["opened", "closed", "all"].includes(state)) {
        res.status(400).json({ error: "state does not have a valid value" });
        return;
      }
      const authorId = stringParam(req, "author_id");
      const authorUsername = stringParam(req, "author_username")?.toLowerCase();
      if (authorId !== undefined && authorUsername !== undefined) {
        res.status(400).json({ error: "author_id, author_username are mutually exclusive" });
        return;
      }
      const labels = listParam(req, "labels").map((l) => l.toLowerCase());
      const key = stringParam(req, "order_by") === "updated_at" ? "updatedAt" : "createdAt";
      const direction = stringParam(req, "sort") === "asc" ? 1 : -1;
      const issues = [...project.issues.values()]
        .filter(
          (issue) =>
            (state === "all" || issue.state === state) &&
            (authorUsername === undefined || issue.author.toLowerCase() === authorUsername) &&
            (authorId === undefined || String(ensureUser(ctx, issue.author).id) === authorId) &&
            labels.every((wanted) => issue.labels.some((l) => l.toLowerCase() === wanted)),
        )
        .sort((a, b) => direction * (a[key].localeCompare(b[key]) || a.iid - b.iid));
      sendPage(
        req,
        res,
        ctx,
        issues.map((issue) => json(ctx, project, issue)),
      );
    }),
  );

  router.post(
    "/projects/:id/issues",
    withProject(ctx, (req, res, project, user) => {
      // Issuable strips a title's surrounding blanks (`strip_attributes! :title`).
      const title = stringParam(req, "title")?.trim();
      if (title === undefined) {
        res.status(400).json({ error: "title is missing" });
        return;
      }
      const description = stringParam(req, "description") ?? null;
      if (!validIssue(res, title, description)) return;
      const now = timestamp();
      const issue: IssueRecord = {
        iid: Math.max(0, ...project.issues.keys()) + 1,
        title,
        description,
        author: user.username,
        state: "opened",
        labels: ensureLabels(project, listParam(req, "labels")),
        edits: 0,
        createdAt: now,
        updatedAt: now,
        closedAt: null,
        closedBy: null,
      };
      project.issues.set(issue.iid, issue);
      res.status(201).json(json(ctx, project, issue));
    }),
  );

  router.get(
    "/projects/:id/issues/:issue_iid",
    withProject(ctx, (req, res, project) => {
      const issue = findIssue(req, res, project);
      if (issue !== undefined) res.json(json(ctx, project, issue));
    }),
  );

  router.put(
    "/projects/:id/issues/:issue_iid",
    withProject(ctx, (req, res, project, user) => {
      const issue = findIssue(req, res, project);
      if (issue === undefined) return;
      if (!mayEdit(project, issue, user)) {
        sendMessage(res, 403, "403 Forbidden");
        return;
      }
      const given = params(req);
      const editable = ["title", "description", "labels", "add_labels", "remove_labels", "state_event"];
      if (!editable.some((name) => name in given)) {
        res.status(400).json({ error: `${editable.join(", ")} are missing, at least one parameter must be provided` });
        return;
      }
      const stateEvent = stringParam(req, "state_event");
      if (stateEvent !== undefined && stateEvent !== "close" && stateEvent !== "reopen") {
        res.status(400).json({ error: "state_event does not have a valid value" });
        return;
      }
      const title = stringParam(req, "title")?.trim() ?? issue.title;
      const description = "description" in given ? (stringParam(req, "description") ?? null) : issue.description;
      // GitLab checks the description's size only when it changes (validate_description_length?).
      if (!validIssue(res, title, description === issue.description ? null : description)) return;
      const now = timestamp();
      if (title !== issue.title || description !== issue.description) issue.edits += 1;
      Object.assign(issue, { title, description, updatedAt: now });
      if ("labels" in given) issue.labels = ensureLabels(project, listParam(req, "labels"));
      // Closing a closed issue (or reopening an open one) is no transition and no error.
      if (stateEvent === "close" && issue.state === "opened")
        Object.assign(issue, { state: "closed", closedAt: now, closedBy: user.username });
      if (stateEvent === "reopen" && issue.state === "closed")
        Object.assign(issue, { state: "opened", closedAt: null, closedBy: null });
      res.json(json(ctx, project, issue));
    }),
  );

  router.get(
    "/projects/:id/issues/:issue_iid/notes",
    withProject(ctx, (req, res, project) => {
      const issue = findIssue(req, res, project);
      if (issue !== undefined) sendNotes(req, res, ctx, project, "Issue", issue.iid);
    }),
  );

  router.post(
    "/projects/:id/issues/:issue_iid/notes",
    withProject(ctx, (req, res, project, user) => {
      const issue = findIssue(req, res, project);
      const note = issue === undefined ? undefined : addNote(req, res, ctx, project, "Issue", issue.iid, user);
      if (issue !== undefined && note !== undefined) issue.updatedAt = note.createdAt;
    }),
  );

  return router;
}

/** The label names as the project spells them, creating those it lacks (as GitLab does for a user who may manage labels). */
export function ensureLabels(project: SimProject, names: string[]): string[] {
  return [...new Set(names.map((n) => n.trim()).filter((n) => n !== ""))].map((name) => {
    const key = name.toLowerCase();
    const known = project.labels.get(key);
    if (known !== undefined) return known;
    project.labels.set(key, name);
    return name;
  });
}

function json(ctx: GitLabSimContext, project: SimProject, issue: IssueRecord): Record<string, unknown> {
  return issueJson(
    project,
    issue,
    ensureUser(ctx, issue.author),
    issue.closedBy === null ? null : ensureUser(ctx, issue.closedBy),
    ctx,
  );
}

/** The issue `:issue_iid`, or undefined after answering 404 as GitLab does for a record it cannot find. */
function findIssue(req: Request, res: Response, project: SimProject): IssueRecord | undefined {
  const issue = project.issues.get(Number(param(req, "issue_iid")));
  if (issue === undefined) sendMessage(res, 404, "404 Not found");
  return issue;
}

/** The author may edit an issue, and so may members with Reporter or above. */
function mayEdit(project: SimProject, issue: IssueRecord, user: SimUser): boolean {
  return (
    issue.author.toLowerCase() === user.username.toLowerCase() ||
    (project.members.get(user.username.toLowerCase()) ?? 0) >= accessLevels.reporter
  );
}

/** A comma-separated (or array) parameter as a list. */
function listParam(req: Request, name: string): string[] {
  const value = params(req)[name];
  const items = Array.isArray(value) ? value : typeof value === "string" ? value.split(",") : [];
  return items
    .filter((v): v is string => typeof v === "string")
    .map((v) => v.trim())
    .filter((v) => v !== "");
}

/**
 * Whether title and description pass Issuable's validations; otherwise answers 400 with GitLab's
 * validation messages (`{"message": {"description": ["is too long (maximum is 1048576 characters)"]}}`:
 * the bytesize validator words its error as a length in characters).
 */
function validIssue(res: Response, title: string, description: string | null): boolean {
  const errors: Record<string, string[]> = {};
  if (title.trim() === "") errors["title"] = ["can't be blank"];
  else if (title.length > maxIssueTitleLength)
    errors["title"] = [`is too long (maximum is ${maxIssueTitleLength} characters)`];
  if (description !== null && Buffer.byteLength(description, "utf8") > maxIssueDescriptionBytes) {
    errors["description"] = [`is too long (maximum is ${maxIssueDescriptionBytes} characters)`];
  }
  if (Object.keys(errors).length === 0) return true;
  sendMessage(res, 400, errors);
  return false;
}
