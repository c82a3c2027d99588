import { isPermanent } from "../errors.js";

/** Options for {@link retryTransient}. */
export interface RetryTransientOptions {
  /** Most tries (default 5). */
  attempts?: number;
  /** Wait before the second try, doubled after each (default 1 s: 1, 2, 4, 8 s). */
  delayMs?: number;
}

/**
 * Runs `fn`, trying again after a transient failure (a forge answering 5xx) with doubling waits;
 * a permanent failure, or the last transient one, is thrown.
 *
 * Why: a step at the end of a job (the result comment) that fails would otherwise fail the whole
 * job, and its retry knows less than this attempt did (the release is then "already released").
 */
export async function retryTransient<T>(fn: () => Promise<T>, options: RetryTransientOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 5;
  let delay = options.delayMs ?? 1000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (isPermanent(error) || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay *= 2;
    }
  }
}
