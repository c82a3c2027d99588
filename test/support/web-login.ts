import assert from "node:assert/strict";
import type { FerryHarness } from "./ferry-harness.js";
import type { GitHubSimulator } from "./github-simulator.js";
import type { GitLabSimulator } from "./gitlab-simulator.js";

/** The OAuth client every web-view test registers; its secrets are test values, not real ones. */
export const WEB_CLIENT = { clientId: "Iv1.ferrytest0001", clientSecret: "web-client-secret-0123456789abcdef" };

/** The environment that turns the web view's sign-in on for `forge`. */
export function webLoginEnv(forge: "github" | "gitlab"): NodeJS.ProcessEnv {
  const prefix = forge === "github" ? "FERRY_GITHUB" : "FERRY_GITLAB";
  return {
    [`${prefix}_CLIENT_ID`]: WEB_CLIENT.clientId,
    [`${prefix}_CLIENT_SECRET`]: WEB_CLIENT.clientSecret,
    FERRY_SESSION_SECRET: "session-secret-for-tests-0123456789abcdef",
  };
}

/** The harness's forge simulator (both have `oauth`, and a way to let a user read a repository). */
export function simulatorOf(h: FerryHarness): GitHubSimulator | GitLabSimulator {
  return (h.forge as unknown as { sim: GitHubSimulator | GitLabSimulator }).sim;
}

/** Lets `login` read (`true`) or not read the repository on the harness's forge. */
export function letRead(
  h: FerryHarness,
  forge: "github" | "gitlab",
  fullName: string,
  login: string,
  read: boolean,
): void {
  const sim = simulatorOf(h);
  if (forge === "github") (sim as GitHubSimulator).setPermission(fullName, login, read ? "read" : "none");
  else (sim as GitLabSimulator).setAccessLevel(fullName, login, read ? 10 : 0);
}

/** Registers Ferry's OAuth client with the simulator, with Ferry's own address as its callback. */
export function registerWebClient(h: FerryHarness): void {
  simulatorOf(h).oauth.register({ ...WEB_CLIENT, callbackUrl: `${h.url}/login/` });
}

/** Cookies a response sets, as `name=value` pairs for a Cookie header. */
export function setCookies(res: Response): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const line of res.headers.getSetCookie()) {
    const pair = line.split(";")[0] ?? "";
    const eq = pair.indexOf("=");
    if (eq > 0) cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return cookies;
}

/** A sign-in started at Ferry and approved at the forge by `login`: the callback URL (with code and state) and the sign-in cookie. */
export async function approveAtForge(
  h: FerryHarness,
  forge: "github" | "gitlab",
  login: string,
  next = "/",
): Promise<{ callback: string; loginCookie: string }> {
  const start = await fetch(`${h.url}/login/${forge}?${new URLSearchParams({ next }).toString()}`, {
    redirect: "manual",
  });
  assert.equal(start.status, 302);
  const authorize = new URL(start.headers.get("location") ?? "");
  const loginCookie = `ferry_login=${setCookies(start).get("ferry_login") ?? ""}`;
  const form = new URLSearchParams({ login });
  for (const name of ["client_id", "redirect_uri", "state"]) form.set(name, authorize.searchParams.get(name) ?? "");
  const approved = await fetch(authorize.origin + authorize.pathname, {
    method: "POST",
    body: form,
    redirect: "manual",
  });
  assert.equal(approved.status, 302, await approved.text());
  return { callback: approved.headers.get("location") ?? "", loginCookie };
}

/** Signs `login` in through the forge's OAuth flow; the Cookie header value of the session. */
export async function signIn(h: FerryHarness, forge: "github" | "gitlab", login: string): Promise<string> {
  const { callback, loginCookie } = await approveAtForge(h, forge, login);
  const back = await fetch(callback, { headers: { cookie: loginCookie }, redirect: "manual" });
  assert.equal(back.status, 303, await back.text());
  const session = setCookies(back).get("ferry_session");
  assert.ok(session, "no session cookie");
  return `ferry_session=${session}`;
}
