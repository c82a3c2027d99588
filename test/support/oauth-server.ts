import { randomBytes } from "node:crypto";
import express, { type Request, type Response, type Router } from "express";

/** An OAuth application registered with a simulated forge. */
export interface OAuthApp {
  clientId: string;
  clientSecret: string;
  /** The callback URL registered; `redirect_uri` must start with it, as both forges require. */
  callbackUrl: string;
}

/** Why a code exchange was refused, in the forge's error codes. */
export type ExchangeError = "incorrect_client_credentials" | "bad_verification_code" | "redirect_uri_mismatch";

/** How long a code may wait for its exchange: 10 minutes, as on GitHub. */
const CODE_TTL_MS = 10 * 60_000;

/**
 * The authorization-code flow both simulated forges share: registered applications, an
 * authorization page where a user names themselves (the forge's own sign-in, simulated), codes good
 * for one exchange with the same `redirect_uri` within 10 minutes, and the tokens issued.
 */
export class OAuthServer {
  private readonly apps = new Map<string, OAuthApp>();
  private readonly codes = new Map<string, { clientId: string; redirectUri: string; login: string; until: number }>();
  /** Tokens issued, mapped to the user they act as. */
  readonly tokens = new Map<string, string>();
  /** Every exchange tried, and how it ended (tests assert a refused one). */
  readonly exchanges: Array<{ clientId: string; outcome: "ok" | ExchangeError }> = [];

  /** `tokenPrefix` starts every token (`ghu_` on GitHub, none on GitLab). */
  constructor(private readonly tokenPrefix: string) {}

  /** Registers an application. */
  register(app: OAuthApp): void {
    this.apps.set(app.clientId, { ...app });
  }

  /** Why an authorization request cannot go on (unknown client, foreign redirect), or undefined. */
  authorizeError(clientId: unknown, redirectUri: unknown): string | undefined {
    const app = typeof clientId === "string" ? this.apps.get(clientId) : undefined;
    if (!app) return "unknown client_id";
    if (typeof redirectUri !== "string" || !redirectUri.startsWith(app.callbackUrl))
      return "The redirect_uri MUST match the registered callback URL for this application.";
    return undefined;
  }

  /** A code for `login`, as the forge's authorization page hands out once the user approves. */
  issueCode(clientId: string, redirectUri: string, login: string): string {
    const code = randomBytes(10).toString("hex");
    this.codes.set(code, { clientId, redirectUri, login, until: Date.now() + CODE_TTL_MS });
    return code;
  }

  /** Exchanges a code for a token: once, by the app it was issued to, with the same redirect_uri. */
  exchange(
    clientId: unknown,
    clientSecret: unknown,
    code: unknown,
    redirectUri: unknown,
  ): { token: string } | { error: ExchangeError } {
    const app = typeof clientId === "string" ? this.apps.get(clientId) : undefined;
    const refuse = (error: ExchangeError) => {
      this.exchanges.push({ clientId: String(clientId), outcome: error });
      return { error };
    };
    if (!app || app.clientSecret !== clientSecret) return refuse("incorrect_client_credentials");
    const issued = typeof code === "string" ? this.codes.get(code) : undefined;
    if (issued) this.codes.delete(code as string);
    if (!issued || issued.clientId !== app.clientId || issued.until < Date.now())
      return refuse("bad_verification_code");
    if (redirectUri !== undefined && redirectUri !== issued.redirectUri) return refuse("redirect_uri_mismatch");
    const token = `${this.tokenPrefix}${randomBytes(18).toString("hex")}`;
    this.tokens.set(token, issued.login);
    this.exchanges.push({ clientId: app.clientId, outcome: "ok" });
    return { token };
  }

  /**
   * The forge's authorization page at `path` (GET: a form asking who signs in, as the forge's own
   * sign-in would; POST: the user approves and is sent back with a code and the state).
   */
  authorizePage(path: string, forge: string): Router {
    const router = express.Router();
    router.get(path, (req, res) => {
      const error = this.authorizeError(req.query.client_id, req.query.redirect_uri);
      if (error)
        return void res
          .status(400)
          .type("text/html")
          .send(`<!doctype html><title>Error</title><p>${escape(error)}</p>`);
      const hidden = ["client_id", "redirect_uri", "state"]
        .map(
          (name) =>
            `<input type="hidden" name="${name}" value="${escape(typeof req.query[name] === "string" ? req.query[name] : "")}">`,
        )
        .join("");
      res.type("text/html").send(`<!doctype html><html lang="en"><head><title>Authorize Ferry · ${forge}</title></head>
<body><main><h1>Sign in to ${forge} to continue to Ferry</h1>
<form method="post" action="${path}">${hidden}
<label for="login">Username</label> <input id="login" name="login" autocomplete="username" required>
<button type="submit">Authorize</button></form></main></body></html>`);
    });
    router.post(path, express.urlencoded({ extended: false }), (req: Request, res: Response) => {
      const body = req.body as Record<string, string | undefined>;
      const error = this.authorizeError(body.client_id, body.redirect_uri);
      if (error || !body.login)
        return void res
          .status(400)
          .type("text/plain")
          .send(error ?? "login required");
      const code = this.issueCode(body.client_id ?? "", body.redirect_uri ?? "", body.login);
      const back = new URL(body.redirect_uri ?? "");
      back.searchParams.set("code", code);
      if (body.state) back.searchParams.set("state", body.state);
      res.redirect(302, back.toString());
    });
    return router;
  }
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
