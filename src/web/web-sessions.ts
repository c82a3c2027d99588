import { randomBytes } from "node:crypto";
import type { ForgeKind } from "../domain/repo.js";
import type { RedisClient } from "../queue/redis-connection.js";

/** A signed-in viewer of the web view. */
export interface WebSession {
  /** The session's id: the session cookie's value (signed). */
  id: string;
  /** The forge the viewer signed in with; only that forge's repositories are shown. */
  forge: ForgeKind;
  /** The viewer's login on the forge. */
  login: string;
  /** The viewer's OAuth token, asked what the viewer can read; never sent to a browser. */
  token: string;
  /** The token every form post must carry (CSRF protection). */
  csrf: string;
}

/** How long a session lasts: 8 hours, then the viewer signs in again. */
export const SESSION_TTL_SECONDS = 8 * 3600;

/** Sessions in Redis under random ids, so the cookie holds no token and signing out ends the session for good. */
export class WebSessions {
  /** Sessions kept in `redis`. */
  constructor(private readonly redis: RedisClient) {}

  /** Starts a session for a viewer; returns it with its id and CSRF token. */
  async create(viewer: Pick<WebSession, "forge" | "login" | "token">): Promise<WebSession> {
    const session: WebSession = {
      id: randomBytes(24).toString("base64url"),
      csrf: randomBytes(24).toString("base64url"),
      ...viewer,
    };
    const { id, ...stored } = session;
    await this.redis.set(key(id), JSON.stringify(stored), "EX", SESSION_TTL_SECONDS);
    return session;
  }

  /** The session with this id, or undefined once it expired or ended. */
  async get(id: string): Promise<WebSession | undefined> {
    if (!/^[A-Za-z0-9_-]{32}$/.test(id)) return undefined;
    const text = await this.redis.get(key(id));
    if (text === null) return undefined;
    return { id, ...(JSON.parse(text) as Omit<WebSession, "id">) };
  }

  /** Ends a session. */
  async end(id: string): Promise<void> {
    await this.redis.del(key(id));
  }
}

const key = (id: string) => `ferry:web-session:${id}`;
