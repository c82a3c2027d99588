import type { Request, RequestHandler, Response } from "express";
import type { AppAuth } from "./app-auth.js";
import { errorJson, type Urls } from "./json.js";
import { repoKey, type SimRepo } from "./model.js";

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

/** Sends GitHub's 422 "Validation Failed" with one field error. */
export function sendValidationFailed(res: Response, resource: string, field: string, code: string, message?: string): void {
  const error: Record<string, unknown> = { resource, code, field };
  if (message !== undefined) error["message"] = message;
  sendError(res, 422, "Validation Failed", { errors: [error] });
}

/** A handler for a repository endpoint, given the repository the installation token may access. */
export type RepoHandler = (req: Request, res: Response, repo: SimRepo) => Promise<void> | void;

/**
 * Wraps a `/repos/:owner/:repo/...` handler: 401 without a valid installation token, 404 when the
 * repository is unknown or belongs to another installation (GitHub hides what a token cannot see).
 */
export function withRepo(ctx: SimulatorContext, handler: RepoHandler): RequestHandler {
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
    await handler(req, res, repo);
  };
}
