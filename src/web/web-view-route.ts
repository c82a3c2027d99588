import express, { type Request, type Response, type Router } from "express";
import type { AuditScope } from "../audit/audit-scope.js";
import type { EnvironmentSummary, EnvironmentViews } from "./environment-views.js";
import { redirectToLogin } from "./login-route.js";
import { environmentPage } from "./pages/environment-page.js";
import { homePage } from "./pages/home-page.js";
import type { PageViewer } from "./pages/layout.js";
import { notFoundPage } from "./pages/not-found-page.js";
import { sendPage, sendStyle } from "./send-page.js";
import type { RepoGuard } from "./repo-guard.js";
import type { WebViewer } from "./web-viewer.js";
import type { WebSession } from "./web-sessions.js";

/** Records on one page of an environment's history. */
export const HISTORY_PAGE = 50;
/** The most records one API call returns. */
const MAX_LIMIT = 500;

/** What the web view's pages and API need. */
export interface WebViewRouteOptions {
  /** What the pages show of environments. */
  views: EnvironmentViews;
  /** Who is signed in, and what they can read. */
  viewer: WebViewer;
  /** Sign-in or 404 for a page of one repository. */
  guard: RepoGuard;
}

/**
 * The web view behind the forge's sign-in: `/` (the environments the viewer can read),
 * `/environments/<forge>/<repo>/<env>` (history, paged with `?before=`; clusters; drift; rollouts)
 * and the same as JSON at `/api/v1/environments` and `/api/v1/environments/<forge>/<repo>/<env>`.
 * Environments of repositories the viewer cannot read are left out, and their pages answer 404.
 */
export function webViewRoute(options: WebViewRouteOptions): Router {
  const router = express.Router();
  const { views, viewer, guard } = options;

  router.get("/assets/ferry.css", (_req, res) => sendStyle(res));

  const visible = async (session: WebSession): Promise<EnvironmentSummary[]> => {
    const scopes = (await views.scopes()).filter((s) => s.forge === session.forge);
    const repos = [...new Set(scopes.map((s) => s.repository))];
    const readable = new Set(
      (
        await Promise.all(
          repos.map(async (r) =>
            (await viewer.canRead(session, { forge: session.forge, repository: r })) ? r : undefined,
          ),
        )
      ).filter((r): r is string => r !== undefined),
    );
    return Promise.all(scopes.filter((s) => readable.has(s.repository)).map((s) => views.summary(s)));
  };

  router.get("/", async (req, res) => {
    const session = await viewer.session(req);
    if (!session) return redirectToLogin(req, res);
    sendPage(res, 200, homePage(await visible(session), pageViewer(session)));
  });

  router.get("/api/v1/environments", async (req, res) => {
    const session = await viewer.session(req);
    if (!session) return void res.status(401).json({ error: "sign in first: /login" });
    res.set("Cache-Control", "no-store").json({ environments: await visible(session) });
  });

  const environment = (json: boolean) => async (req: Request, res: Response) => {
    const scope = scopeOf(req);
    const repo = scope && { forge: scope.forge, fullName: scope.repository };
    const session = await guard(req, res, repo, "environment", json);
    if (!session || !scope) return;
    const before =
      typeof req.query.before === "string" && /^\d+-\d+$/.test(req.query.before) ? req.query.before : undefined;
    const limit = json ? limitOf(req.query.limit) : HISTORY_PAGE;
    const detail = await views.detail(scope, limit, before);
    if (!detail) {
      if (json) return void res.status(404).json({ error: "no such environment" });
      return sendPage(res, 404, notFoundPage("environment", pageViewer(session)));
    }
    if (json) res.set("Cache-Control", "no-store").json(detail);
    else sendPage(res, 200, environmentPage(detail, pageViewer(session)));
  };
  router.get("/environments/:forge/*path", environment(false));
  router.get("/api/v1/environments/:forge/*path", environment(true));
  return router;
}

/** What the page header shows of a session: never its token. */
export function pageViewer(session: WebSession): PageViewer {
  return { login: session.login, forge: session.forge, csrf: session.csrf };
}

/** The environment a path names: the forge, the repository (every segment but the last), the environment. */
function scopeOf(req: Request): AuditScope | undefined {
  const forge = req.params.forge;
  const raw: unknown = (req.params as Record<string, unknown>).path;
  const segments = Array.isArray(raw) ? (raw as string[]) : [];
  if ((forge !== "github" && forge !== "gitlab") || segments.length < 2) return undefined;
  const environment = segments.at(-1) ?? "";
  const repository = segments.slice(0, -1).join("/");
  if (environment === "" || repository === "" || environment === "*") return undefined;
  return { forge, repository, environment };
}

function limitOf(raw: unknown): number {
  const n = typeof raw === "string" ? Number.parseInt(raw, 10) : HISTORY_PAGE;
  return Number.isInteger(n) && n > 0 ? Math.min(n, MAX_LIMIT) : HISTORY_PAGE;
}
