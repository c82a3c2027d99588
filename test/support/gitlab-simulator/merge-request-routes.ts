import express, { type Request, type Response, type Router } from "express";
import {
  ensureUser,
  param,
  sendMessage,
  sendNotFound,
  sendPage,
  stringParam,
  timestamp,
  withProject,
  type GitLabSimContext,
} from "./context.js";
import { awardJson, mergeRequestJson, mergeRequestState, noteJson } from "./json.js";
import type { MergeRequestInput, NoteRecord, SimProject } from "./model.js";
import { addNote, sendNotes, validNoteBody } from "./notes.js";

/** Emoji names the simulator accepts (GitLab accepts any it knows; these cover what bots use). */
const emojiNames = new Set([
  "thumbsup",
  "thumbsdown",
  "eyes",
  "rocket",
  "tada",
  "heart",
  "smile",
  "confused",
  "white_check_mark",
  "x",
  "hourglass",
  "warning",
]);

/** Merge request, note and award emoji endpoints, mounted under `/api/v4`. */
export function mergeRequestRoutes(ctx: GitLabSimContext): Router {
  const router = express.Router();

  // GET /projects/:id/merge_requests: `state` opened, closed, locked, merged or all (default all);
  // `target_branch` filters; newest first (order_by created_at, sort desc by default); paginated.
  router.get(
    "/projects/:id/merge_requests",
    withProject(ctx, (req, res, project) => {
      const state = stringParam(req, "state") ?? "all";
      if (!["opened", "closed", "locked", "merged", "all"].includes(state)) {
        res.status(400).json({ error: "state does not have a valid value" });
        return;
      }
      const target = stringParam(req, "target_branch");
      const listed = [...project.mergeRequests.values()]
        .filter(
          (mr) =>
            (state === "all" || mergeRequestState(mr) === state) &&
            (target === undefined || mr.targetBranch === target),
        )
        .sort((a, b) => b.iid - a.iid);
      sendPage(
        req,
        res,
        ctx,
        listed.map((mr) => mergeRequestJson(project, mr, ensureUser(ctx, mr.author), ctx)),
      );
    }),
  );

  router.get(
    "/projects/:id/merge_requests/:iid",
    withProject(ctx, (req, res, project) => {
      const mr = findMergeRequest(req, res, project);
      if (mr !== undefined) res.json(mergeRequestJson(project, mr, ensureUser(ctx, mr.author), ctx));
    }),
  );

  router.get(
    "/projects/:id/merge_requests/:iid/notes",
    withProject(ctx, (req, res, project) => {
      const mr = findMergeRequest(req, res, project);
      if (mr !== undefined) sendNotes(req, res, ctx, project, "MergeRequest", mr.iid);
    }),
  );

  router.post(
    "/projects/:id/merge_requests/:iid/notes",
    withProject(ctx, (req, res, project, user) => {
      const mr = findMergeRequest(req, res, project);
      if (mr !== undefined) addNote(req, res, ctx, project, "MergeRequest", mr.iid, user);
    }),
  );

  router.get(
    "/projects/:id/merge_requests/:iid/notes/:note_id",
    withProject(ctx, (req, res, project) => {
      const note = findNote(req, res, project);
      if (note !== undefined) res.json(noteJson(project, note, ensureUser(ctx, note.author), ctx));
    }),
  );

  router.put(
    "/projects/:id/merge_requests/:iid/notes/:note_id",
    withProject(ctx, (req, res, project, user) => {
      const note = findNote(req, res, project);
      if (note === undefined) return;
      if (note.author.toLowerCase() !== user.username.toLowerCase() || note.system) {
        sendMessage(res, 403, "403 Forbidden");
        return;
      }
      const body = validNoteBody(req, res);
      if (body === undefined) return;
      note.body = body;
      note.edits += 1;
      note.updatedAt = timestamp();
      res.json(noteJson(project, note, user, ctx));
    }),
  );

  router.get(
    "/projects/:id/merge_requests/:iid/notes/:note_id/award_emoji",
    withProject(ctx, (req, res, project) => {
      const note = findNote(req, res, project);
      if (note !== undefined)
        sendPage(
          req,
          res,
          ctx,
          note.awards.map((a) => awardJson(note, a, ensureUser(ctx, a.user), ctx)),
        );
    }),
  );

  // One user may give one emoji name once; a repeat is GitLab's 404 "Name has already been taken".
  router.post(
    "/projects/:id/merge_requests/:iid/notes/:note_id/award_emoji",
    withProject(ctx, (req, res, project, user) => {
      const note = findNote(req, res, project);
      if (note === undefined) return;
      const name = stringParam(req, "name");
      if (name === undefined) {
        res.status(400).json({ error: "name is missing" });
        return;
      }
      if (!emojiNames.has(name)) {
        sendNotFound(res, "Award Emoji Name is not a valid emoji name");
        return;
      }
      if (note.awards.some((a) => a.name === name && a.user.toLowerCase() === user.username.toLowerCase())) {
        sendNotFound(res, "Award Emoji Name has already been taken");
        return;
      }
      const award = { id: ctx.nextId(), name, user: user.username };
      note.awards.push(award);
      res.status(201).json(awardJson(note, award, user, ctx));
    }),
  );

  return router;
}

/** The merge request `:iid`, or undefined after answering 404. */
function findMergeRequest(req: Request, res: Response, project: SimProject): MergeRequestInput | undefined {
  const mr = project.mergeRequests.get(Number(param(req, "iid")));
  if (mr === undefined) sendNotFound(res, "Merge Request");
  return mr;
}

/** The note `:note_id` on merge request `:iid`, or undefined after answering 404. */
function findNote(req: Request, res: Response, project: SimProject): NoteRecord | undefined {
  const iid = Number(param(req, "iid"));
  const note = project.mergeRequests.has(iid)
    ? project.notes.find((n) => n.iid === iid && String(n.id) === param(req, "note_id"))
    : undefined;
  if (note === undefined) sendNotFound(res, "Note");
  return note;
}
