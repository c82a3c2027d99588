/** How Ferry honours a forge's `Retry-After`. */
export interface RetryAfterOptions {
  /** Most times one request is sent again after a `Retry-After` answer (default 3). */
  retries?: number;
  /** Longest wait honoured inside a request; a longer one is handed back (the job queue's backoff takes over). Default 120 s. */
  maxWaitMs?: number;
  /** Told of each wait before it starts (for logs and metrics). */
  onWait?: (wait: { url: string; method: string; status: number; ms: number; retry: number }) => void;
  /** How to wait (tests may shorten it); default a timer. */
  sleep?: (ms: number) => Promise<void>;
}

/** Statuses whose `Retry-After` means the forge did not act on the request and asks to be called again later. */
const RETRYABLE = new Set([403, 429, 503]);

/**
 * The wait a `Retry-After` header value asks for, in ms: delta-seconds or an HTTP date; undefined
 * when absent or unreadable. A date in the past asks for no wait.
 */
export function retryAfterMs(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === "") return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * A `fetch` that honours `Retry-After`: a 403, 429 or 503 answer carrying it is drained and the same
 * request sent again after the wait it names (at most `retries` times, each wait at most
 * `maxWaitMs`); any other answer, or one asking for longer, is handed back as it came. These
 * statuses with `Retry-After` mean the forge refused the request without acting on it (rate limits,
 * maintenance), so sending it again cannot do anything twice. Requests whose body is a stream cannot
 * be sent twice and are handed back at once.
 */
export function honourRetryAfter(fetchImpl: typeof fetch, options: RetryAfterOptions = {}): typeof fetch {
  const retries = options.retries ?? 3;
  const maxWaitMs = options.maxWaitMs ?? 120_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  return async (input, init) => {
    const replayable =
      !(input instanceof Request) &&
      (init?.body === undefined ||
        init.body === null ||
        typeof init.body === "string" ||
        init.body instanceof Uint8Array ||
        init.body instanceof URLSearchParams);
    for (let retry = 1; ; retry++) {
      const response = await fetchImpl(input, init);
      const wait = RETRYABLE.has(response.status) ? retryAfterMs(response.headers.get("retry-after")) : undefined;
      if (wait === undefined || wait > maxWaitMs || retry > retries || !replayable) return response;
      await response.body?.cancel().catch(() => undefined);
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : "(request)";
      options.onWait?.({ url, method: init?.method ?? "GET", status: response.status, ms: wait, retry });
      await sleep(wait);
    }
  };
}
