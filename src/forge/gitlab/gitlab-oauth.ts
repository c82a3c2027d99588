import { OAuthError, jsonOf, type OAuthProvider } from "../oauth-provider.js";

/** A GitLab OAuth application (Admin or group/user Settings → Applications), scope `read_api`. */
export interface GitLabOAuthConfig {
  /** The application's id. */
  clientId: string;
  /** The application's secret. */
  clientSecret: string;
  /** The GitLab instance (`GITLAB_URL`), e.g. `https://gitlab.com`. */
  url: string;
}

/**
 * Sign-in with a GitLab OAuth application: `GET /api/v4/projects/:path` with the user's token
 * answers 404 for a project the user cannot see.
 */
export function gitlabOAuth(config: GitLabOAuthConfig): OAuthProvider {
  const base = config.url.replace(/\/+$/, "");
  const api = (token: string, path: string): Promise<Response> =>
    fetch(`${base}/api/v4${path}`, { headers: { authorization: `Bearer ${token}` } });
  return {
    forge: "gitlab",
    label: "GitLab",
    authorizeUrl(state, redirectUri) {
      const query = new URLSearchParams({
        client_id: config.clientId,
        redirect_uri: redirectUri,
        response_type: "code",
        scope: "read_api",
        state,
      });
      return `${base}/oauth/authorize?${query.toString()}`;
    },
    async exchangeCode(code, redirectUri) {
      const res = await fetch(`${base}/oauth/token`, {
        method: "POST",
        headers: { accept: "application/json", "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "authorization_code",
          client_id: config.clientId,
          client_secret: config.clientSecret,
          code,
          redirect_uri: redirectUri,
        }).toString(),
      });
      const body = await jsonOf(res);
      if (!res.ok || typeof body?.access_token !== "string") {
        const error = typeof body?.error === "string" ? body.error : `HTTP ${res.status}`;
        throw new OAuthError(`GitLab refused the sign-in code: ${error}`);
      }
      return body.access_token;
    },
    async userLogin(token) {
      const res = await api(token, "/user");
      const body = await jsonOf(res);
      if (!res.ok || typeof body?.username !== "string")
        throw new OAuthError(`GitLab did not say who signed in (HTTP ${res.status})`);
      return body.username;
    },
    async canRead(token, fullName) {
      const res = await api(token, `/projects/${encodeURIComponent(fullName)}`);
      await res.body?.cancel();
      if (res.ok) return true;
      if ([401, 403, 404].includes(res.status)) return false;
      throw new OAuthError(`GitLab did not say whether the user can read ${fullName} (HTTP ${res.status})`);
    },
  };
}
