import type { Request, Response } from "express";
import { ensureUser, sendMessage, sendPage, stringParam, timestamp, type GitLabSimContext } from "./context.js";
import { noteJson } from "./json.js";
import type { NoteRecord, SimProject, SimUser } from "./model.js";

/** GitLab's limit on a note body, in characters. */
export const maxNoteLength = 1_000_000;

/** What notes are on: a merge request (`project.notes`) or an issue (`project.issueNotes`). */
export type Noteable = "MergeRequest" | "Issue";

/** Answers a list of item `iid`'s notes as GitLab does: by `order_by` (created_at, or updated_at) and `sort` (desc unless asc), paginated. */
export function sendNotes(
  req: Request,
  res: Response,
  ctx: GitLabSimContext,
  project: SimProject,
  noteable: Noteable,
  iid: number,
): void {
  const key = stringParam(req, "order_by") === "updated_at" ? "updatedAt" : "createdAt";
  const direction = stringParam(req, "sort") === "asc" ? 1 : -1;
  const notes = (noteable === "Issue" ? project.issueNotes : project.notes)
    .filter((n) => n.iid === iid)
    .sort((a, b) => direction * (a[key].localeCompare(b[key]) || a.id - b.id));
  sendPage(
    req,
    res,
    ctx,
    notes.map((n) => noteJson(project, n, ensureUser(ctx, n.author), ctx, noteable)),
  );
}

/**
 * Adds the note of a create request by `user` to item `iid` and answers 201 with it; answers 400 as
 * GitLab does when the body is missing, blank or too long. Returns the note, or undefined when refused.
 */
export function addNote(
  req: Request,
  res: Response,
  ctx: GitLabSimContext,
  project: SimProject,
  noteable: Noteable,
  iid: number,
  user: SimUser,
): NoteRecord | undefined {
  const body = validNoteBody(req, res);
  if (body === undefined) return undefined;
  const now = timestamp();
  const note: NoteRecord = {
    id: ctx.nextId(),
    iid,
    body,
    author: user.username,
    system: false,
    edits: 0,
    awards: [],
    createdAt: now,
    updatedAt: now,
  };
  (noteable === "Issue" ? project.issueNotes : project.notes).push(note);
  res.status(201).json(noteJson(project, note, user, ctx, noteable));
  return note;
}

/** The note body of a create or edit, or undefined after answering 400 as GitLab does. */
export function validNoteBody(req: Request, res: Response): string | undefined {
  const body = stringParam(req, "body");
  if (body === undefined) {
    res.status(400).json({ error: "body is missing" });
    return undefined;
  }
  if (body.trim() === "") {
    sendMessage(res, 400, { note: ["can't be blank"] });
    return undefined;
  }
  if (body.length > maxNoteLength) {
    sendMessage(res, 400, { note: [`is too long (maximum is ${maxNoteLength} characters)`] });
    return undefined;
  }
  return body;
}
