import { Gitlab } from "@gitbeaker/rest";
import { permanent } from "../../errors.js";
import type { ForgeApiMetrics } from "../../metrics/metrics.js";
import { cachedLookup } from "../cached-lookup.js";
import type { ForgeFactory } from "../types.js";
import { gitlabError, gitlabStatus } from "./gitlab-error.js";
import { GitLabForge } from "./gitlab-forge.js";
import { gitlabRequester, type GitLabRetryOptions } from "./gitlab-requester.js";

/** What `gitlabForgeFactory` needs: where GitLab is and the token Ferry acts with. */
export interface GitLabForgeFactoryOptions {
  /** The GitLab instance's root URL, e.g. `https://gitlab.com` (the API is at `<url>/api/v4`). */
  url: string;
  /** A personal, group or project access token with the `api` scope (Developer or above on the projects). */
  token: string;
  /** Counts every API call, by gitbeaker method (`Commits.editStatus`) and status class. */
  metrics?: ForgeApiMetrics;
  /** How 429s and 5xx are retried (see gitlabRequester); tests shorten the backoff. */
  retry?: GitLabRetryOptions;
}

/**
 * Client-side pacing, requests per minute per endpoint pattern: gitbeaker's defaults, except that
 * its cap of 5 archive downloads a minute (GitLab.com's server-side limit) is lifted, since each
 * job downloads one archive and self-managed instances set their own limits.
 *
 * Retries: Ferry's requester (gitlabRequester) waits out 429s as GitLab's `Retry-After` asks and
 * retries other 5xx of requests safe to repeat; what still fails ends as a transient FerryError,
 * which the job queue retries with its own backoff.
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
  const client = new Gitlab({
    host: options.url.replace(/\/+$/, ""),
    token: options.token,
    rateLimits,
    requesterFn: gitlabRequester({
      ...options.retry,
      onWait: (wait) => options.metrics?.rateLimitWait("retry-after", wait.ms / 1000),
    }),
  });
  const api = options.metrics ? countedApi(client, options.metrics) : client;
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

/**
 * `api` with every `api.<Resource>.<method>(...)` call counted once it settles: gitbeaker has no
 * request hooks, and its resources are plain objects of async methods, so a proxy sees each call.
 */
export function countedApi<T extends object>(api: T, metrics: ForgeApiMetrics): T {
  return new Proxy(api, {
    get(target, resource, receiver) {
      const value: unknown = Reflect.get(target, resource, receiver);
      if (typeof resource !== "string" || typeof value !== "object" || value === null) return value;
      return new Proxy(value, {
        get(methods, name, methodsReceiver) {
          const method: unknown = Reflect.get(methods, name, methodsReceiver);
          if (typeof name !== "string" || typeof method !== "function") return method;
          const endpoint = `${resource}.${name}`;
          return (...args: unknown[]): Promise<unknown> => {
            const call = Promise.resolve((method as (...a: unknown[]) => unknown).apply(methods, args));
            return call.then(
              (result) => {
                metrics.call(endpoint, 200);
                return result;
              },
              (error: unknown) => {
                metrics.call(endpoint, gitlabStatus(error));
                throw error;
              },
            );
          };
        },
      });
    },
  });
}
