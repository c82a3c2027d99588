import { githubOAuth, githubUrlsFromEnv } from "../forge/github/github-oauth.js";
import { gitlabOAuth } from "../forge/gitlab/gitlab-oauth.js";
import type { OAuthProvider } from "../forge/oauth-provider.js";

/** The web view's sign-in: the forges people sign in with and the secret session cookies are signed with. */
export interface WebLoginConfig {
  /** One provider per forge configured, GitHub first. */
  providers: OAuthProvider[];
  /** `FERRY_SESSION_SECRET`: signs session and sign-in cookies (at least 32 characters). */
  sessionSecret: string;
}

/** The shortest session secret Ferry accepts. */
const MIN_SECRET = 32;

/**
 * The web view's sign-in from the environment: `FERRY_GITHUB_CLIENT_ID`/`_SECRET` (the GitHub App's
 * user authorization), `FERRY_GITLAB_CLIENT_ID`/`_SECRET` (a GitLab OAuth application on
 * `GITLAB_URL`) and `FERRY_SESSION_SECRET`. Undefined (no web view: its pages answer 404) when no
 * forge's client is configured; throws when one is half configured or the session secret is missing
 * or short, so Ferry refuses to start rather than serve pages nobody can sign in to safely.
 */
export function webLoginFromEnv(env: NodeJS.ProcessEnv): WebLoginConfig | undefined {
  const providers: OAuthProvider[] = [];
  const github = clientOf(env, "GITHUB");
  if (github) providers.push(githubOAuth({ ...github, ...githubUrlsFromEnv(env) }));
  const gitlab = clientOf(env, "GITLAB");
  if (gitlab) {
    if (!env.GITLAB_URL) throw new Error("FERRY_GITLAB_CLIENT_ID is set but GITLAB_URL is not");
    providers.push(gitlabOAuth({ ...gitlab, url: env.GITLAB_URL }));
  }
  if (providers.length === 0) return undefined;
  const sessionSecret = env.FERRY_SESSION_SECRET ?? "";
  if (sessionSecret.length < MIN_SECRET)
    throw new Error(
      `the web view's sign-in is configured, so FERRY_SESSION_SECRET must be set to at least ${MIN_SECRET} ` +
        "random characters (e.g. `openssl rand -hex 32`)",
    );
  return { providers, sessionSecret };
}

function clientOf(
  env: NodeJS.ProcessEnv,
  forge: "GITHUB" | "GITLAB",
): { clientId: string; clientSecret: string } | undefined {
  const clientId = env[`FERRY_${forge}_CLIENT_ID`] ?? "";
  const clientSecret = env[`FERRY_${forge}_CLIENT_SECRET`] ?? "";
  if (clientId === "" && clientSecret === "") return undefined;
  if (clientId === "" || clientSecret === "")
    throw new Error(`set both FERRY_${forge}_CLIENT_ID and FERRY_${forge}_CLIENT_SECRET, or neither`);
  return { clientId, clientSecret };
}
