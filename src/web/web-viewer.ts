import { timingSafeEqual } from "node:crypto";
import type { Request, Response } from "express";
import type { AuditScope } from "../audit/audit-scope.js";
import type { RepoAccess } from "./repo-access.js";
import { parseCookies, signCookie, verifyCookie } from "./signed-cookie.js";
import { SESSION_TTL_SECONDS, type WebSession, type WebSessions } from "./web-sessions.js";

/** The session cookie's name. */
export const SESSION_COOKIE = "ferry_session";

/** Who is looking at the web view, and what they may read: one per request. */
export class WebViewer {
  /** Reads sessions from `sessions`, asks `access` what a session can read, verifies cookies with `secret`. */
  constructor(
    private readonly sessions: WebSessions,
    private readonly access: RepoAccess,
    private readonly secret: string,
  ) {}

  /** The request's session, from its signed cookie; undefined when absent, forged or ended. */
  async session(req: Request): Promise<WebSession | undefined> {
    const id = verifyCookie(SESSION_COOKIE, parseCookies(req.header("cookie")).get(SESSION_COOKIE), this.secret);
    return id === undefined ? undefined : this.sessions.get(id);
  }

  /** Whether the session can read the repository (asked of the forge, cached briefly). */
  canRead(session: WebSession, repo: Pick<AuditScope, "forge" | "repository">): Promise<boolean> {
    return this.access.canRead(session, repo.forge, repo.repository);
  }

  /** Sets the session cookie: HttpOnly, Secure, SameSite=Lax, signed, for the session's lifetime. */
  setSessionCookie(res: Response, session: WebSession): void {
    res.cookie(SESSION_COOKIE, signCookie(SESSION_COOKIE, session.id, this.secret), {
      httpOnly: true,
      secure: true,
      sameSite: "lax",
      path: "/",
      maxAge: SESSION_TTL_SECONDS * 1000,
      encode: String,
    });
  }

  /** Clears the session cookie. */
  clearSessionCookie(res: Response): void {
    res.clearCookie(SESSION_COOKIE, { httpOnly: true, secure: true, sameSite: "lax", path: "/" });
  }
}

/** Whether a form's CSRF token is the session's, compared in constant time. */
export function csrfMatches(session: WebSession, given: unknown): boolean {
  if (typeof given !== "string") return false;
  const a = Buffer.from(given);
  const b = Buffer.from(session.csrf);
  return a.length === b.length && timingSafeEqual(a, b);
}
