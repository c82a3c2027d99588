import {
  createRequesterFn,
  getMatchingRateLimiter,
  GitbeakerRequestError,
  GitbeakerRetryError,
  GitbeakerTimeoutError,
  type FormattedResponse,
  type RateLimiters,
  type RequesterType,
  type ResourceOptions,
  type ResponseBodyTypes,
} from "@gitbeaker/requester-utils";
import { retryAfterMs } from "../retry-after.js";

/** How the requester retries. */
export interface GitLabRetryOptions {
  /** Most sends of one request (default 5). */
  attempts?: number;
  /** First backoff when GitLab names no wait, doubled per retry (default 1 s). */
  backoffMs?: number;
  /** Longest wait honoured inside a request; past it the request fails and the job queue's backoff takes over (default 120 s). */
  maxWaitMs?: number;
  /** How to wait (tests may shorten it); default a timer. */
  sleep?: (ms: number) => Promise<void>;
  /** Told of each wait GitLab asked for with `Retry-After`, before it starts (for metrics). */
  onWait?: (wait: { status: number; ms: number }) => void;
}

/** What gitbeaker hands a request handler, as its options handler built it. */
interface HandlerOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | FormData;
  searchParams?: string;
  prefixUrl?: string;
  asStream?: boolean;
  signal?: AbortSignal;
  rateLimiters?: RateLimiters;
}

/**
 * gitbeaker's requester with GitLab's `Retry-After` honoured.
 *
 * Why: gitbeaker's own handler retries 429 and 502 ten times within a quarter of a second, ignoring
 * `Retry-After`, and retries a POST that failed with 502 (a note GitLab created before failing would
 * be posted twice). This one: a 429 (and a 503 naming a wait) waits as GitLab asks, whatever the
 * method, since GitLab did nothing; other 5xx are retried with backoff only for methods safe to
 * repeat (GET, HEAD, PUT, DELETE), and a failed POST is handed to the job's retry, whose verbs find
 * what the first attempt did. A wait longer than `maxWaitMs` fails at once with the wait in the message.
 */
export function gitlabRequester(options: GitLabRetryOptions = {}): (resourceOptions: ResourceOptions) => RequesterType {
  const attempts = options.attempts ?? 5;
  const backoffMs = options.backoffMs ?? 1000;
  const maxWaitMs = options.maxWaitMs ?? 120_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  const handler = async (endpoint: string, raw?: Record<string, unknown>): Promise<FormattedResponse> => {
    const {
      rateLimiters,
      asStream = false,
      prefixUrl,
      searchParams,
      method = "GET",
      ...init
    } = (raw ?? {}) as HandlerOptions;
    const rateLimit = getMatchingRateLimiter(endpoint, rateLimiters, method);
    const url = new URL(
      endpoint,
      prefixUrl === undefined ? undefined : prefixUrl.endsWith("/") ? prefixUrl : `${prefixUrl}/`,
    );
    url.search = searchParams ?? "";
    const idempotent = method !== "POST" && method !== "PATCH";
    let lastStatus = 0;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      await rateLimit();
      // Archives are fetched same-origin, as gitbeaker does, so a redirect cannot carry the token elsewhere.
      const request = new Request(url, {
        ...init,
        method,
        ...(endpoint.includes("repository/archive") ? { mode: "same-origin" as const } : {}),
      });
      const response = await fetch(request).catch((error: unknown) => {
        if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError"))
          throw new GitbeakerTimeoutError("Query timeout was reached");
        throw error;
      });
      if (response.ok) return parseResponse(response, asStream);
      const asked =
        response.status === 429 || response.status === 503
          ? retryAfterMs(response.headers.get("retry-after"))
          : undefined;
      const retryable = response.status === 429 || asked !== undefined || (response.status >= 500 && idempotent);
      if (!retryable || attempt === attempts) await throwFailedRequest(request, response);
      const wait = asked ?? backoffMs * 2 ** (attempt - 1);
      if (wait > maxWaitMs)
        await throwFailedRequest(request, response, ` (GitLab asks to retry in ${Math.ceil(wait / 1000)} s)`);
      await response.body?.cancel().catch(() => undefined);
      lastStatus = response.status;
      if (asked !== undefined) options.onWait?.({ status: response.status, ms: wait });
      await sleep(wait);
    }
    throw new GitbeakerRetryError(
      `Could not successfully complete this request after ${attempts} attempts, last status code: ${lastStatus}.`,
    );
  };
  return createRequesterFn((_resourceOptions, requestOptions) => Promise.resolve(requestOptions), handler);
}

/** The response as gitbeaker's resources expect it: body parsed by content type (or the stream), headers, status. */
async function parseResponse(response: Response, asStream: boolean): Promise<FormattedResponse> {
  const headers = Object.fromEntries(response.headers.entries());
  if (asStream) return { body: response.body as unknown as ResponseBodyTypes, headers, status: response.status };
  if (response.status === 204) return { body: null as unknown as ResponseBodyTypes, headers, status: response.status };
  const type = (response.headers.get("content-type") ?? "").split(";")[0]?.trim() ?? "";
  const body: unknown =
    type === "application/json"
      ? ((await response.json()) ?? {})
      : type.startsWith("text/")
        ? await response.text()
        : await response.blob();
  return { body: body as ResponseBodyTypes, headers, status: response.status };
}

/** Throws gitbeaker's GitbeakerRequestError for a failed answer, with GitLab's message as its description (what ./gitlab-error.ts reads). */
async function throwFailedRequest(request: Request, response: Response, suffix = ""): Promise<never> {
  const content = await response.text();
  let description = content;
  if (response.headers.get("content-type")?.includes("application/json")) {
    try {
      const output = JSON.parse(content) as { error?: unknown; message?: unknown } | null;
      const property = output?.error ?? output?.message ?? "";
      description = typeof property === "string" ? property : JSON.stringify(property);
    } catch {
      // Not JSON after all: keep the text.
    }
  }
  throw new GitbeakerRequestError(`${description}${suffix}`, {
    cause: { description: `${description}${suffix}`, request, response },
  });
}
