import type { Request, RequestHandler, Response } from "express";
import type { AppAuth } from "./app-auth.js";
import { errorJson, type Urls } from "./json.js";
import { defaultInstallationPermissions, repoKey, type InstallationPermissions, type SimRepo } from "./model.js";

/** What the route handlers share: the app's credentials and the simulated repositories. */
export interface SimulatorContext {
  /** App key pair and installation tokens. */
  auth: AppAuth;
  /** Base URLs for links in responses. */
  urls: Urls;
  /** The app's slug; its bot user is `<slug>[bot]`. */
  appSlug: string;
  /** Repositories by lower-cased "owner/name". */
  repos: Map<string, SimRepo>;
  /** Permissions of installations a test changed; the others have `defaultInstallationPermissions`. */
  installationPermissions: Map<number, InstallationPermissions>;
  /** Short-lived archive download tokens, mapped to what they download. */
  archiveTokens: Map<string, { repo: SimRepo; sha: string }>;
  /** Next id for a created object (comment, status, reaction). */
  nextId(): number;
}

/** A route parameter as one string; wildcard parameters (`*ref`) are joined with `/`. */
export function param(req: Request, name: string): string {
  const value = req.params[name];
  return Array.isArray(value) ? value.join("/") : (value ?? "");
}

/** A positive integer query parameter, or `fallback` when absent or malformed. */
export function intQuery(req: Request, name: string, fallback: number): number {
  const raw = req.query[name];
  const parsed = typeof raw === "string" ? Number.parseInt(raw, 10) : Number.NaN;
  return Number.isInteger(parsed) && parsed > 0 ? parsed : fallback;
}

/** Sends GitHub's JSON error response. */
export function sendError(res: Response, status: number, message: string, extra: Record<string, unknown> = {}): void {
  res.status(status).json(errorJson(status, message, extra));
}

/** `found`, or undefined after answering 404 Not Found, as GitHub does for a record it does not have. */
export function orNotFound<T>(res: Response, found: T | undefined): T | undefined {
  if (found === undefined) sendError(res, 404, "Not Found");
  return found;
}

/** Sends GitHub's 422 "Validation Failed" with one field error. */
export function sendValidationFailed(
  res: Response,
  resource: string,
  field: string,
  code: string,
  message?: string,
): void {
  const error: Record<string, unknown> = { resource, code, field };
  if (message !== undefined) error["message"] = message;
  sendError(res, 422, "Validation Failed", { errors: [error] });
}

/** A handler for a repository endpoint, given the repository the installation token may access. */
export type RepoHandler = (req: Request, res: Response, repo: SimRepo) => Promise<void> | void;

/** What an endpoint needs of the installation: one of `anyOf` at `access` (write implies read). */
export interface Needs {
  /** Permission names, any one of which will do (GitHub's "at least one of the following permission sets"). */
  anyOf: string[];
  /** The access needed. */
  access: "read" | "write";
}

/** The permissions an installation holds now. */
export function permissionsOf(ctx: SimulatorContext, installationId: number): InstallationPermissions {
  return ctx.installationPermissions.get(installationId) ?? { ...defaultInstallationPermissions };
}

/**
 * Whether the repository's installation holds what `needs` names; when it does not, answers 403
 * "Resource not accessible by integration" as GitHub does and returns false.
 */
export function permitted(ctx: SimulatorContext, res: Response, repo: SimRepo, needs: Needs): boolean {
  const held = permissionsOf(ctx, repo.installationId);
  const ok = needs.anyOf.some((name) => held[name] === "write" || (needs.access === "read" && held[name] === "read"));
  if (!ok) sendError(res, 403, "Resource not accessible by integration");
  return ok;
}

/**
 * Wraps a `/repos/:owner/:repo/...` handler: 401 without a valid installation token, 404 when the
 * repository is unknown or belongs to another installation (GitHub hides what a token cannot see),
 * 403 when the installation lacks the permission `needs` names.
 */
export function withRepo(ctx: SimulatorContext, handler: RepoHandler, needs?: Needs): RequestHandler {
  return async (req, res) => {
    const check = ctx.auth.verifyInstallationToken(req.get("authorization"));
    if (!check.ok) {
      sendError(res, 401, check.message);
      return;
    }
    const repo = ctx.repos.get(repoKey(`${param(req, "owner")}/${param(req, "repo")}`));
    if (repo === undefined || repo.installationId !== check.value.installationId) {
      sendError(res, 404, "Not Found");
      return;
    }
    if (needs !== undefined && !permitted(ctx, res, repo, needs)) return;
    await handler(req, res, repo);
  };
}

/** Sends one page of a list with GitHub's `per_page`/`page` query and `Link` header. */
export function sendPage(req: Request, res: Response, ctx: SimulatorContext, items: unknown[]): void {
  const perPage = Math.min(intQuery(req, "per_page", 30), 100);
  const page = intQuery(req, "page", 1);
  const lastPage = Math.max(1, Math.ceil(items.length / perPage));
  const pageUrl = (n: number): string => {
    const url = new URL(req.originalUrl, ctx.urls.web);
    url.searchParams.set("per_page", String(perPage));
    url.searchParams.set("page", String(n));
    return url.toString();
  };
  const links: string[] = [];
  if (page > 1) links.push(`<${pageUrl(page - 1)}>; rel="prev"`);
  if (page < lastPage) links.push(`<${pageUrl(page + 1)}>; rel="next"`, `<${pageUrl(lastPage)}>; rel="last"`);
  if (page > 1) links.push(`<${pageUrl(1)}>; rel="first"`);
  if (links.length > 0) res.set("link", links.join(", "));
  res.json(items.slice((page - 1) * perPage, page * perPage));
}
