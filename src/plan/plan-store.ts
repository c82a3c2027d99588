import { randomBytes } from "node:crypto";
import type { RedisClient } from "../queue/redis-connection.js";

/** How long a full plan stays readable at its URL. */
const TTL_SECONDS = 30 * 24 * 3600;

/** Where full plans live: Redis, under unguessable ids, for the URL on statuses and comments. */
export class PlanStore {
  /** Binds the store to a Redis connection. */
  constructor(private readonly redis: RedisClient) {}

  /** Saves a full plan's text and returns its id. */
  async save(text: string): Promise<string> {
    const id = randomBytes(16).toString("hex");
    await this.redis.set(`ferry:plan-text:${id}`, text, "EX", TTL_SECONDS);
    return id;
  }

  /** The plan saved under `id`, or undefined once expired or for an unknown id. */
  async load(id: string): Promise<string | undefined> {
    if (!/^[0-9a-f]{32}$/.test(id)) return undefined;
    return (await this.redis.get(`ferry:plan-text:${id}`)) ?? undefined;
  }
}

/** The public URL of a saved plan. */
export function planUrl(publicUrl: string, id: string): string {
  return `${publicUrl.replace(/\/+$/, "")}/plans/${id}`;
}
