import { STATUS_CODES } from "node:http";
import type { Request, RequestHandler, Response } from "express";
import type { DeploymentTransitionError } from "./deployment-model.js";
import { gitlabUserId, type SimProject, type SimUser, type StateMachineError } from "./model.js";

/** What the route handlers share: URLs, projects, users, tokens and the ids handed out. */
export interface GitLabSimContext {
  /** Web root, e.g. `http://127.0.0.1:PORT`. */
  web: string;
  /** REST root, `<web>/api/v4`. */
  api: string;
  /** Projects by id. */
  projects: Map<number, SimProject>;
  /** Users by lower-cased username. */
  users: Map<string, SimUser>;
  /** Access tokens, mapped to the username they act as. */
  tokens: Map<string, string>;
  /** Status posts refused by the state machine. */
  stateMachineErrors: StateMachineError[];
  /** Deployment status changes refused by the Deployment state machine. */
  deploymentTransitionErrors: DeploymentTransitionError[];
  /** Next id for a created object (note, status, award, pipeline). */
  nextId(): number;
}

/** The user with `username`, registered on first mention. */
export function ensureUser(ctx: GitLabSimContext, username: string, bot = false): SimUser {
  const key = username.toLowerCase();
  let user = ctx.users.get(key);
  if (user === undefined) {
    user = { id: gitlabUserId(username), username, bot };
    ctx.users.set(key, user);
  }
  return user;
}

/** The project named by `:id`: a numeric id or a (URL-decoded) path with namespace. */
export function findProject(ctx: GitLabSimContext, id: string): SimProject | undefined {
  if (/^\d+$/.test(id)) return ctx.projects.get(Number(id));
  const path = id.toLowerCase();
  return [...ctx.projects.values()].find((p) => p.path.toLowerCase() === path);
}

/** A route parameter as one string. */
export function param(req: Request, name: string): string {
  const value = req.params[name];
  return Array.isArray(value) ? value.join("/") : (value ?? "");
}

/** Request parameters as GitLab reads them: the query string merged with a JSON or form body. */
export function params(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  const fromBody =
    typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  return { ...(req.query as Record<string, unknown>), ...fromBody };
}

/** A string parameter, or undefined. */
export function stringParam(req: Request, name: string): string | undefined {
  const value = params(req)[name];
  return typeof value === "string" ? value : undefined;
}

/** Sends GitLab's error body: `{"message": "404 Project Not Found"}` and the like. */
export function sendMessage(res: Response, status: number, message: unknown): void {
  res.status(status).json({ message });
}

/** Sends `404 <what> Not Found`, as GitLab's `not_found!(what)` does. */
export function sendNotFound(res: Response, what: string): void {
  sendMessage(res, 404, `404 ${what} Not Found`);
}

/** GitLab's default body for an HTTP status, e.g. `{"message": "502 Bad Gateway"}`. */
export function defaultErrorBody(status: number): { message: string } {
  return { message: `${status} ${STATUS_CODES[status] ?? "Error"}` };
}

/** The username a request's token acts as (`PRIVATE-TOKEN` or `Authorization: Bearer`), or undefined. */
export function tokenUser(ctx: GitLabSimContext, req: Request): string | undefined {
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.get("authorization") ?? "")?.[1];
  const token = req.get("private-token") ?? bearer;
  return token === undefined ? undefined : ctx.tokens.get(token);
}

/** A handler that needs an authenticated user. */
export type UserHandler = (req: Request, res: Response, user: SimUser) => Promise<void> | void;

/** Wraps a handler: 401 without a valid token, as GitLab answers. */
export function withUser(ctx: GitLabSimContext, handler: UserHandler): RequestHandler {
  return async (req, res) => {
    const username = tokenUser(ctx, req);
    if (username === undefined) {
      sendMessage(res, 401, "401 Unauthorized");
      return;
    }
    await handler(req, res, ensureUser(ctx, username));
  };
}

/** A handler for a `/projects/:id/...` endpoint. */
export type ProjectHandler = (req: Request, res: Response, project: SimProject, user: SimUser) => Promise<void> | void;

/** Wraps a project endpoint: 401 without a valid token, 404 for an unknown project. */
export function withProject(ctx: GitLabSimContext, handler: ProjectHandler): RequestHandler {
  return withUser(ctx, async (req, res, user) => {
    const project = findProject(ctx, param(req, "id"));
    if (project === undefined) {
      sendNotFound(res, "Project");
      return;
    }
    await handler(req, res, project, user);
  });
}

/** A positive integer query parameter, or `fallback`. */
function intQuery(req: Request, name: string, fallback: number): number {
  const raw = req.query[name];
  const parsed = typeof raw === "string" ? Number.parseInt(raw, 10) : Number.NaN;
  return Number.isInteger(parsed) && parsed > 0 ? parsed : fallback;
}

/**
 * Sends one page of a list as GitLab's offset pagination does: `page`/`per_page` (default 20,
 * at most 100), the `x-page`, `x-per-page`, `x-total`, `x-total-pages`, `x-next-page`,
 * `x-prev-page` headers and a `Link` header (which gitbeaker follows).
 */
export function sendPage(req: Request, res: Response, ctx: GitLabSimContext, items: unknown[]): void {
  const perPage = Math.min(intQuery(req, "per_page", 20), 100);
  const page = intQuery(req, "page", 1);
  const totalPages = Math.max(1, Math.ceil(items.length / perPage));
  const pageUrl = (n: number): string => {
    const url = new URL(req.originalUrl, ctx.web);
    url.searchParams.set("page", String(n));
    url.searchParams.set("per_page", String(perPage));
    return url.toString();
  };
  const links: string[] = [];
  if (page > 1) links.push(`<${pageUrl(page - 1)}>; rel="prev"`);
  if (page < totalPages) links.push(`<${pageUrl(page + 1)}>; rel="next"`);
  links.push(`<${pageUrl(1)}>; rel="first"`, `<${pageUrl(totalPages)}>; rel="last"`);
  res.set({
    link: links.join(", "),
    "x-page": String(page),
    "x-per-page": String(perPage),
    "x-total": String(items.length),
    "x-total-pages": String(totalPages),
    "x-next-page": page < totalPages ? String(page + 1) : "",
    "x-prev-page": page > 1 ? String(page - 1) : "",
  });
  res.json(items.slice((page - 1) * perPage, page * perPage));
}

/** Current time as GitLab formats it (ISO 8601 with milliseconds). */
export function timestamp(): string {
  return new Date().toISOString();
}
