import type { CommitStatus, Forge } from "../forge/types.js";
import { withLock } from "../queue/environment-lock.js";
import type { RedisClient } from "../queue/redis-connection.js";

/** Options for {@link finalStatusOnce}. */
export interface FinalStatusOnceOptions {
  /** The contexts whose final status is frozen; default every deploy context (`ferry/deploy`, `ferry/deploy/<env>`). */
  frozen?: (context: string) => boolean;
  /** How long Redis remembers a final status (default 30 days, as long as failed jobs are kept). */
  ttlSeconds?: number;
}

/**
 * How long a lock around one forge call stays taken when its holder dies: short, as the holder renews
 * it while it works, and a killed worker's successor should not wait long.
 */
export const SHORT_LOCK_MS = 5_000;

const isDeployContext = (context: string) => context === "ferry/deploy" || context.startsWith("ferry/deploy/");

/** The Redis key remembering that `sha` got its final status for `context`. */
export function finalStatusKey(forge: Forge, sha: string, context: string): string {
  return `ferry:final-status:${forge.repo.forge}:${forge.repo.fullName}:${sha}:${context}`;
}

/** The Redis key remembering when the newest status sent for (`sha`, `context`) was made. */
function newestMadeKey(forge: Forge, sha: string, context: string): string {
  return `ferry:status-made:${forge.repo.forge}:${forge.repo.fullName}:${sha}:${context}`;
}

/**
 * `forge` with each commit's deploy status frozen once it is final: after a success or failure
 * was posted for (commit, context), every later status for them is dropped; and an intermediate
 * status made (`madeAt`) before one already sent for them is dropped as stale.
 *
 * Why: a deploy job is retried whole (the result comment failed while the forge was down), and
 * several jobs report on one commit (a newer job releases the head an older job also asked for);
 * each would otherwise post a second final status, or a "running" after the final one. Statuses are
 * sent beside the work (StatusSender), so the deploy job's "queued", held up by a slow forge, may
 * reach the lock after the release job's "deploying": sent then, it would show the release queued
 * again. Redis, which every worker shares, remembers what was posted, and the forge is asked when
 * Redis does not know (the worker that posted may have died before telling Redis); a post that
 * failed is tried again. (`madeAt` comes from each worker's clock: skew between workers can drop an
 * intermediate status made within the skew of a newer one, never a final one.)
 */
export function finalStatusOnce(forge: Forge, redis: RedisClient, options: FinalStatusOnceOptions = {}): Forge {
  const frozen = options.frozen ?? isDeployContext;
  const ttl = options.ttlSeconds ?? 30 * 24 * 3600;
  const setStatus = async (sha: string, status: CommitStatus): Promise<void> => {
    if (!frozen(status.context)) return forge.setStatus(sha, status);
    const key = finalStatusKey(forge, sha, status.context);
    if ((await redis.get(key)) !== null) return;
    // Several jobs may report one commit at once (a rollout ending while a later job joins it, a
    // push and a merge of one commit): each post is made under a lock, so only the first final
    // status lands, and a forge that reads the current status before posting (GitLab refuses a
    // status that is no transition) never reads one another worker is about to replace.
    return withLock(redis, `${key}:lock`, () => post(sha, status, key), { ttlMs: SHORT_LOCK_MS });
  };
  const post = async (sha: string, status: CommitStatus, key: string): Promise<void> => {
    if ((await redis.get(key)) !== null) return;
    const final = status.state === "success" || status.state === "failure";
    const madeKey = newestMadeKey(forge, sha, status.context);
    const newest = Number((await redis.get(madeKey)) ?? 0);
    if (!final && status.madeAt !== undefined && newest > status.madeAt) return;
    // Redis learns of a final status only after the forge took it; a worker killed in between left
    // it on the forge alone, so the forge is asked too.
    const current = await forge.statusOf(sha, status.context);
    if (current?.state === "success" || current?.state === "failure") {
      await redis.set(key, `${current.state}: ${current.description}`, "EX", ttl);
      return;
    }
    await forge.setStatus(sha, status);
    if (final) await redis.set(key, `${status.state}: ${status.description}`, "EX", ttl);
    if (status.madeAt !== undefined && status.madeAt > newest)
      await redis.set(madeKey, String(status.madeAt), "EX", ttl);
  };
  return new Proxy(forge, {
    get(target, property) {
      if (property === "setStatus") return setStatus;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
