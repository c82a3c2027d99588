/** How an agent paces its reconnects to Redis. */
export interface ReconnectPacing {
  /** The ceiling of the first retry's delay. */
  baseMs: number;
  /** The longest any retry waits. */
  capMs: number;
}

/** Half a second, doubling to half a minute. */
export const DEFAULT_RECONNECT_PACING: ReconnectPacing = { baseMs: 500, capMs: 30_000 };

/**
 * The delay before reconnect attempt `attempt` (1 for the first), as ioredis's `retryStrategy` asks:
 * exponential backoff with full jitter (a uniformly random delay up to `min(cap, base × 2^(attempt−1))`),
 * so thousands of agents that lost Redis at the same moment come back spread over the window instead
 * of all at once. `random` is in [0, 1).
 */
export function reconnectDelay(
  attempt: number,
  pacing: ReconnectPacing = DEFAULT_RECONNECT_PACING,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(pacing.capMs, pacing.baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  return Math.floor(random() * ceiling);
}
