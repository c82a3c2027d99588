import type { Request, Response } from "express";
import type { RepoRef } from "../domain/repo.js";
import { redirectToLogin } from "./login-route.js";
import { notFoundPage } from "./pages/not-found-page.js";
import { sendPage } from "./send-page.js";
import type { WebViewer } from "./web-viewer.js";
import type { WebSession } from "./web-sessions.js";

/**
 * Lets a request see a page of `repo` only when its viewer is signed in and can read `repo` on the
 * forge; otherwise answers for it (to sign-in when not signed in, 404 when the repository is unknown
 * or unreadable, the same answer as for a page that does not exist) and returns undefined.
 */
export type RepoGuard = (
  req: Request,
  res: Response,
  repo: Pick<RepoRef, "forge" | "fullName"> | undefined,
  what: string,
  json: boolean,
) => Promise<WebSession | undefined>;

/** The guard of the web view's pages and of `/plans/:id` and `/rollouts/:id` once sign-in is configured. */
export function repoGuard(viewer: WebViewer): RepoGuard {
  return async (req, res, repo, what, json) => {
    const session = await viewer.session(req);
    if (!session) {
      if (json) res.status(401).json({ error: "sign in first: /login" });
      else redirectToLogin(req, res);
      return undefined;
    }
    if (repo && (await viewer.canRead(session, { forge: repo.forge, repository: repo.fullName }))) return session;
    if (json) res.status(404).json({ error: `no such ${what}` });
    else sendPage(res, 404, notFoundPage(what, session));
    return undefined;
  };
}

/**
 * The guard of `/plans/:id` and `/rollouts/:id` when no forge's sign-in is configured: nobody can be
 * told apart, so every page answers 404, as the queue dashboard does without its credentials, with
 * a line saying why (the links in statuses and comments lead here).
 */
export function noSignInGuard(): RepoGuard {
  const message =
    "this Ferry shows plans and rollouts only to people signed in with the forge, and no sign-in is configured";
  return (_req, res, _repo, _what, json) => {
    if (json) res.status(404).json({ error: message });
    else res.status(404).type("text/plain; charset=utf-8").send(`${message}\n`);
    return Promise.resolve(undefined);
  };
}
