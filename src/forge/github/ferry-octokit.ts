import type { ThrottlingOptions } from "@octokit/plugin-throttling";
import Bottleneck from "bottleneck";
import { WriteOrder } from "./write-order.js";
import { ProbotOctokit } from "probot";
import type { ForgeApiMetrics } from "../../metrics/metrics.js";
import { honourRetryAfter } from "../retry-after.js";

/** Options Probot's Octokit class is constructed with. */
type OctokitOptions = NonNullable<ConstructorParameters<typeof ProbotOctokit>[0]>;

/** The throttling plugin's options, with both rate-limit handlers required. */
type ThrottleOptions = Extract<ThrottlingOptions, { onRateLimit: unknown }>;

/** How Ferry's Octokit paces and retries requests. */
export interface FerryOctokitOptions {
  /**
   * Keep the throttling plugin's spacing between writes of one installation (1 s, and 3 s for
   * writes that notify people, such as comments), as GitHub asks of integrators. Tests turn it off.
   */
  writeSpacing: boolean;
  /** Base of the retry plugin's backoff for 5xx, network errors and plain 429s (waits 1×, 4×, 9× it); default 1000 ms. */
  retryBackoffMs?: number;
  /** Counts every API call (by endpoint and status class) and every wait for a rate limit. */
  metrics?: ForgeApiMetrics;
}

/** How many times one request is retried after a primary or secondary rate limit. */
export const rateLimitRetries = 3;

/** Longest wait, in seconds, for a rate limit to lift inside a request; past it the call fails as transient and the job queue's backoff takes over. */
export const maxRateLimitWaitSeconds = 120;

/**
 * Probot's Octokit class with Ferry's throttle and retry settings, to pass to `createProbot` as
 * `overrides.Octokit`.
 *
 * Why: Probot 14 builds its Octokit with @octokit/plugin-throttling and @octokit/plugin-retry, but
 * `getOctokitThrottleOptions` replaces the handlers of `ProbotOctokit`: a primary rate limit is
 * retried twice and a secondary one (403/429 "secondary rate limit", with `Retry-After`) never.
 * This class installs handlers that retry both up to `rateLimitRetries` times, each after the wait
 * GitHub names (`Retry-After`, or `x-ratelimit-reset`), unless that wait exceeds
 * `maxRateLimitWaitSeconds`. Probot's outer defaults run before ours, so a function default (not
 * an object, which Probot's own throttle object would replace) is what keeps these handlers.
 *
 * Write spacing: the throttling plugin serialises writes per installation through process-wide
 * Bottleneck groups with `minTime` 1 s (3 s for notifying writes). With `writeSpacing: false` the
 * class passes its own `write` and `notifications` groups without `minTime` (the documented
 * `throttle.write`/`throttle.notifications` options), so tests run at full speed while rate-limit
 * responses are still honoured; `throttle.enabled: false` would lose those too.
 *
 * Other failures (5xx, network errors, 429 without GitHub's rate-limit shape) are retried by
 * plugin-retry, three times with backoff `retryBackoffMs` × 1, 4, 9.
 *
 * Metrics: a plugin hooks every request after the throttle and retry plugins, so each call counts
 * once with its final status, named by its route template (`GET /repos/{owner}/{repo}/git/ref/{ref}`).
 */
export function ferryOctokit(options: FerryOctokitOptions): typeof ProbotOctokit {
  // Built per call, so each Probot built from this class shares one set, and no state is module-level.
  // Writes are spaced by WriteOrder (commit statuses first), so the plugin's write queue only keeps
  // rate-limit handling; its notification spacing (3 s between comments) stays unless tests turn it off.
  const unspacedGroups: Partial<ThrottleOptions> = {
    write: new Bottleneck.Group({ maxConcurrent: 1, minTime: 0 }),
    ...(options.writeSpacing ? {} : { notifications: new Bottleneck.Group({ maxConcurrent: 1, minTime: 0 }) }),
  };
  const order = options.writeSpacing ? new WriteOrder() : undefined;
  const handler =
    (kind: string): ThrottleOptions["onRateLimit"] =>
    (retryAfter, request, octokit, retryCount) => {
      const retry = retryCount < rateLimitRetries && retryAfter <= maxRateLimitWaitSeconds;
      const next = retry
        ? `retrying in ${retryAfter} s (retry ${retryCount + 1} of ${rateLimitRetries})`
        : `giving up after ${retryCount} retries`;
      octokit.log.warn(`${kind} rate limit hit by "${request.method} ${request.url}"; ${next}`);
      if (retry) options.metrics?.rateLimitWait(kind === "Primary" ? "primary" : "retry-after", retryAfter);
      return retry;
    };
  const rateLimitHandlers = { onRateLimit: handler("Primary"), onSecondaryRateLimit: handler("Secondary") };
  const { metrics } = options;
  const Ordered = order
    ? ProbotOctokit.plugin((octokit, octokitOptions) => {
        // Probot names each installation's client by its id (throttle.id); the app's own by none.
        const id = (octokitOptions.throttle as { id?: unknown } | undefined)?.id;
        const key = typeof id === "string" || typeof id === "number" ? String(id) : "app";
        octokit.hook.wrap("request", async (request, requestOptions) => {
          const context = (requestOptions as { context?: unknown }).context;
          await order.turn(
            key,
            requestOptions.method,
            requestOptions.url,
            typeof context === "string" ? context : undefined,
          );
          return request(requestOptions);
        });
      })
    : ProbotOctokit;
  const Counted = metrics
    ? Ordered.plugin((octokit) => {
        octokit.hook.after("request", (response, request) =>
          metrics.call(endpointOf(request.method, request.url), response.status),
        );
        octokit.hook.error("request", (error, request) => {
          const status = (error as { status?: unknown }).status;
          metrics.call(
            endpointOf(request.method, request.url),
            typeof status === "number" && status > 0 ? status : undefined,
          );
          throw error;
        });
      })
    : Ordered;
  return Counted.defaults((instance: OctokitOptions): OctokitOptions => ({
    ...instance,
    throttle: { ...instance.throttle, ...rateLimitHandlers, ...unspacedGroups },
    retry: { retryAfterBaseValue: options.retryBackoffMs ?? 1000, ...instance.retry },
    // A 403, 429 or 503 with Retry-After is waited out as GitHub asks before the plugins above see it
    // (they would retry a plain 429 or 503 after their own backoff, and a 403 never).
    request: {
      ...instance.request,
      fetch: honourRetryAfter((instance.request?.fetch as typeof fetch | undefined) ?? globalThis.fetch, {
        maxWaitMs: maxRateLimitWaitSeconds * 1000,
        onWait: (wait) => {
          instance.log?.warn(
            `GitHub answered ${wait.status} with Retry-After to "${wait.method} ${wait.url}"; retrying in ${wait.ms / 1000} s (retry ${wait.retry})`,
          );
          options.metrics?.rateLimitWait("retry-after", wait.ms / 1000);
        },
      }),
    },
  }));
}

/**
 * `METHOD /path/{template}` for a request: its route template without host or query; a concrete
 * URL (no template) has its numeric and commit-like segments replaced, so the label stays bounded.
 */
export function endpointOf(method: string, url: string): string {
  const path = url
    .replace(/^[a-z]+:\/\/[^/]+/i, "")
    .replace(/\?.*$/, "")
    .replace(/^\/api\/v3(?=\/)/, "");
  const bounded = path.includes("{") ? path : path.replace(/\/(\d+|[0-9a-f]{7,40})(?=\/|$)/gi, "/{id}");
  return `${method.toUpperCase()} ${bounded}`;
}
