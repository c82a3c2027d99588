import { randomBytes } from "node:crypto";
import type { RepoRef } from "../domain/repo.js";
import type { RedisClient } from "../queue/redis-connection.js";

/** How long a full plan stays readable at its URL. */
const TTL_SECONDS = 30 * 24 * 3600;

/** Where full plans live: Redis, under unguessable ids, for the URL on statuses and comments. */
export class PlanStore {
  /** Binds the store to a Redis connection. */
  constructor(private readonly redis: RedisClient) {}

  /**
   * Saves a full plan's text and returns its id; `repo`, the repository planned, is kept beside it so
   * the web view shows the plan only to people who can read that repository.
   */
  async save(text: string, repo?: Pick<RepoRef, "forge" | "fullName">): Promise<string> {
    const id = randomBytes(16).toString("hex");
    const multi = this.redis.multi().set(textKey(id), text, "EX", TTL_SECONDS);
    if (repo) multi.set(repoKey(id), JSON.stringify({ forge: repo.forge, fullName: repo.fullName }), "EX", TTL_SECONDS);
    await multi.exec();
    return id;
  }

  /** The repository a plan belongs to, or undefined (unknown id, or a plan saved without one). */
  async repoOf(id: string): Promise<Pick<RepoRef, "forge" | "fullName"> | undefined> {
    if (!/^[0-9a-f]{32}$/.test(id)) return undefined;
    const text = await this.readEither(repoKey(id), `ferry:plan-repo:${id}`);
    if (text === null) return undefined;
    const parsed = JSON.parse(text) as { forge: RepoRef["forge"]; fullName: string };
    return { forge: parsed.forge, fullName: parsed.fullName };
  }

  /** The plan saved under `id`, or undefined once expired or for an unknown id. */
  async load(id: string): Promise<string | undefined> {
    if (!/^[0-9a-f]{32}$/.test(id)) return undefined;
    return (await this.readEither(textKey(id), `ferry:plan-text:${id}`)) ?? undefined;
  }

  /** `key`, or the key a plan saved before it had a hash tag used (read until those expire). */
  private async readEither(key: string, untagged: string): Promise<string | null> {
    return (await this.redis.get(key)) ?? (await this.redis.get(untagged));
  }
}

// A plan's text and repository are written in one transaction: on a Redis Cluster its keys must
// share a slot, so they share the plan's id as hash tag.
const textKey = (id: string) => `ferry:plan-text:{${id}}`;
const repoKey = (id: string) => `ferry:plan-repo:{${id}}`;

/** The public URL of a saved plan. */
export function planUrl(publicUrl: string, id: string): string {
  return `${publicUrl.replace(/\/+$/, "")}/plans/${id}`;
}
