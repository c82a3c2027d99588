import { randomBytes } from "node:crypto";
import express, { type Request, type Response, type Router } from "express";
import type { Logger } from "pino";
import type { OAuthProvider } from "../forge/oauth-provider.js";
import { loginPage } from "./pages/login-page.js";
import { sendPage } from "./send-page.js";
import { parseCookies, signCookie, verifyCookie } from "./signed-cookie.js";
import { csrfMatches, type WebViewer } from "./web-viewer.js";
import type { WebSessions } from "./web-sessions.js";

/** The cookie that carries a sign-in's state (and where to go after) between Ferry and the forge. */
const LOGIN_COOKIE = "ferry_login";
/** How long a sign-in may take at the forge: 10 minutes. */
const LOGIN_TTL_MS = 10 * 60_000;

/** What the sign-in routes need. */
export interface LoginRouteOptions {
  /** The forges people may sign in with. */
  providers: OAuthProvider[];
  /** Where sessions are started and ended. */
  sessions: WebSessions;
  /** Reads and sets the session cookie. */
  viewer: WebViewer;
  /** Signs the sign-in cookie. */
  secret: string;
  /** The address the forge sends people back to (`FERRY_PUBLIC_URL`): callbacks are `<it>/login/<forge>/callback`. */
  publicUrl(): string;
  /** Where a sign-in the forge refused is logged (its error code only). */
  log: Pick<Logger, "warn">;
}

/**
 * Sign-in and sign-out: `GET /login` (a link per forge), `GET /login/:forge` (to the forge's
 * authorization page, with a random state kept in a signed cookie), `GET /login/:forge/callback`
 * (state checked, code exchanged, user asked, session started) and `POST /logout` (CSRF token checked).
 */
export function loginRoute(options: LoginRouteOptions): Router {
  const router = express.Router();
  const callback = (forge: string) => `${options.publicUrl().replace(/\/+$/, "")}/login/${forge}/callback`;
  const providerOf = (req: Request) => options.providers.find((p) => p.forge === req.params.forge);

  router.get("/login", (req, res) => {
    sendPage(res, 200, loginPage(options.providers, safeNext(req.query.next)));
  });

  router.get("/login/:forge", (req, res) => {
    const provider = providerOf(req);
    if (!provider) return sendPage(res, 404, loginPage(options.providers, "/", "No sign-in with that forge."));
    const state = randomBytes(24).toString("base64url");
    const value = Buffer.from(
      JSON.stringify({ state, forge: provider.forge, next: safeNext(req.query.next) }),
    ).toString("base64url");
    res.cookie(LOGIN_COOKIE, signCookie(LOGIN_COOKIE, value, options.secret), {
      httpOnly: true,
      secure: true,
      sameSite: "lax",
      path: "/login",
      maxAge: LOGIN_TTL_MS,
      encode: String,
    });
    res.redirect(302, provider.authorizeUrl(state, callback(provider.forge)));
  });

  router.get("/login/:forge/callback", async (req, res) => {
    const provider = providerOf(req);
    const started = readLoginCookie(req, options.secret);
    res.clearCookie(LOGIN_COOKIE, { path: "/login", httpOnly: true, secure: true, sameSite: "lax" });
    const refuse = (why: string) => sendPage(res, 400, loginPage(options.providers, started?.next ?? "/", why));
    if (!provider || !started || started.forge !== provider.forge || started.state !== req.query.state)
      return refuse("That sign-in was not started here, or took too long. Please sign in again.");
    if (typeof req.query.code !== "string" || req.query.code === "")
      return refuse(`${provider.label} did not let you sign in. Please try again.`);
    try {
      const token = await provider.exchangeCode(req.query.code, callback(provider.forge));
      const login = await provider.userLogin(token);
      const session = await options.sessions.create({ forge: provider.forge, login, token });
      options.viewer.setSessionCookie(res, session);
      res.redirect(303, started.next);
    } catch (error) {
      // The message names the forge's error code only; no code, token or secret is logged.
      options.log.warn({ forge: provider.forge, reason: (error as Error).message }, "web sign-in failed");
      refuse(`${provider.label} did not complete the sign-in. Please try again.`);
    }
  });

  router.post("/logout", express.urlencoded({ extended: false, limit: "4kb" }), async (req, res) => {
    const session = await options.viewer.session(req);
    const body = req.body as Record<string, unknown> | undefined;
    if (!session || !csrfMatches(session, body?.csrf)) {
      res.status(403).type("text/plain").send("sign-out refused: the form is stale; reload the page and try again\n");
      return;
    }
    await options.sessions.end(session.id);
    options.viewer.clearSessionCookie(res);
    res.redirect(303, "/login");
  });

  return router;
}

/** A path on this site to go back to after sign-in: anything else (another host, `//host`) becomes `/`. */
function safeNext(raw: unknown): string {
  return typeof raw === "string" && raw.startsWith("/") && !raw.startsWith("//") && !raw.includes("\\") ? raw : "/";
}

function readLoginCookie(req: Request, secret: string): { state: string; forge: string; next: string } | undefined {
  const value = verifyCookie(LOGIN_COOKIE, parseCookies(req.header("cookie")).get(LOGIN_COOKIE), secret);
  if (value === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(value, "base64url").toString("utf8")) as Record<string, unknown>;
    if (typeof parsed.state !== "string" || typeof parsed.forge !== "string") return undefined;
    return { state: parsed.state, forge: parsed.forge, next: safeNext(parsed.next) };
  } catch {
    return undefined;
  }
}

/** Sends people who are not signed in to `/login`, coming back to where they were going. */
export function redirectToLogin(req: Request, res: Response): void {
  res.redirect(302, `/login?${new URLSearchParams({ next: req.originalUrl }).toString()}`);
}
