import { Gitlab } from "@gitbeaker/rest";
import { permanent } from "../../errors.js";
import { cachedLookup } from "../cached-lookup.js";
import type { ForgeFactory } from "../types.js";
import { gitlabError } from "./gitlab-error.js";
import { GitLabForge } from "./gitlab-forge.js";

/** What `gitlabForgeFactory` needs: where GitLab is and the token Ferry acts with. */
export interface GitLabForgeFactoryOptions {
  /** The GitLab instance's root URL, e.g. `https://gitlab.com` (the API is at `<url>/api/v4`). */
  url: string;
  /** A personal, group or project access token with the `api` scope (Developer or above on the projects). */
  token: string;
}

/**
 * Client-side pacing, requests per minute per endpoint pattern: gitbeaker's defaults, except that
 * its cap of 5 archive downloads a minute (GitLab.com's server-side limit) is lifted, since each
 * job downloads one archive and self-managed instances set their own limits.
 *
 * Retries: gitbeaker itself retries only 429 and 502, up to 10 times within about a quarter of a
 * second (it ignores `Retry-After`), then throws GitbeakerRetryError; other 5xx are not retried.
 * Both end as transient FerryErrors, which the job queue retries with its own backoff.
 */
const rateLimits = {
  "**": 3000,
  "projects/*/merge_requests/*/notes": { method: "post", limit: 300 },
};

/**
 * A `ForgeFactory` for GitLab: one gitbeaker client for the instance, shared by every project,
 * and the token's own username (the author of Ferry's notes and statuses), looked up once with
 * `GET /user` and cached; a failed lookup is forgotten so the next job retries it.
 */
export function gitlabForgeFactory(options: GitLabForgeFactoryOptions): ForgeFactory {
  const api = new Gitlab({ host: options.url.replace(/\/+$/, ""), token: options.token, rateLimits });
  const botUsername = cachedLookup(async () => {
    try {
      return (await api.Users.showCurrentUser()).username;
    } catch (error) {
      throw gitlabError(error, "reading the token's user");
    }
  });
  return async (repo) => {
    if (repo.forge !== "gitlab") throw permanent(`GitLab: cannot act on a ${repo.forge} repository (${repo.fullName})`);
    return new GitLabForge({ api, repo, botUsername: await botUsername() });
  };
}
