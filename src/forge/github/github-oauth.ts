import { OAuthError, jsonOf, type OAuthProvider } from "../oauth-provider.js";

/** A GitHub App's user authorization (its client id and secret), on github.com or a GitHub Enterprise Server. */
export interface GitHubOAuthConfig {
  /** The app's client id (`Iv1.…`, on the app's settings page). */
  clientId: string;
  /** A client secret generated on the app's settings page. */
  clientSecret: string;
  /** Where people sign in: `https://github.com`, or `https://<GHE_HOST>`. */
  webUrl: string;
  /** The REST API: `https://api.github.com`, or `https://<GHE_HOST>/api/v3`. */
  apiUrl: string;
}

/** The GitHub web and API addresses from `GHE_HOST`/`GHE_PROTOCOL` (github.com without them). */
export function githubUrlsFromEnv(env: NodeJS.ProcessEnv): Pick<GitHubOAuthConfig, "webUrl" | "apiUrl"> {
  if (!env.GHE_HOST) return { webUrl: "https://github.com", apiUrl: "https://api.github.com" };
  const web = `${env.GHE_PROTOCOL ?? "https"}://${env.GHE_HOST}`;
  return { webUrl: web, apiUrl: `${web}/api/v3` };
}

/**
 * Sign-in with a GitHub App's user authorization: the token it yields acts for the user within what
 * the app may see, so `GET /repos/{owner}/{repo}` answers 404 unless both the user and the app can
 * read the repository.
 */
export function githubOAuth(config: GitHubOAuthConfig): OAuthProvider {
  const api = async (token: string, path: string): Promise<Response> =>
    fetch(`${config.apiUrl}${path}`, {
      headers: {
        authorization: `Bearer ${token}`,
        accept: "application/vnd.github+json",
        "x-github-api-version": "2022-11-28",
        "user-agent": "ferry",
      },
    });
  return {
    forge: "github",
    label: "GitHub",
    authorizeUrl(state, redirectUri) {
      const query = new URLSearchParams({ client_id: config.clientId, redirect_uri: redirectUri, state });
      return `${config.webUrl}/login/oauth/authorize?${query.toString()}`;
    },
    async exchangeCode(code, redirectUri) {
      const res = await fetch(`${config.webUrl}/login/oauth/access_token`, {
        method: "POST",
        headers: { accept: "application/json", "content-type": "application/json", "user-agent": "ferry" },
        body: JSON.stringify({
          client_id: config.clientId,
          client_secret: config.clientSecret,
          code,
          redirect_uri: redirectUri,
        }),
      });
      const body = await jsonOf(res);
      // GitHub answers a refused exchange with 200 and an `error` field.
      if (!res.ok || typeof body?.access_token !== "string") {
        const error = typeof body?.error === "string" ? body.error : `HTTP ${res.status}`;
        throw new OAuthError(`GitHub refused the sign-in code: ${error}`);
      }
      return body.access_token;
    },
    async userLogin(token) {
      const res = await api(token, "/user");
      const body = await jsonOf(res);
      if (!res.ok || typeof body?.login !== "string")
        throw new OAuthError(`GitHub did not say who signed in (HTTP ${res.status})`);
      return body.login;
    },
    async canRead(token, fullName) {
      const [owner, name] = fullName.split("/");
      if (!owner || !name) return false;
      const res = await api(token, `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`);
      await res.body?.cancel();
      if (res.ok) return true;
      if ([401, 403, 404].includes(res.status)) return false;
      throw new OAuthError(`GitHub did not say whether the user can read ${fullName} (HTTP ${res.status})`);
    },
  };
}
