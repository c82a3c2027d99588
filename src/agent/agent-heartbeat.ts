import type { RedisClient } from "../queue/redis-connection.js";
import type { AgentKeys } from "./agent-keys.js";

/** How long a heartbeat key outlives its agent: longer than any `agentTimeout`, and gone a day after the agent. */
const HEARTBEAT_TTL_MS = 24 * 3600 * 1000;

/**
 * Keeps an agent's heartbeat key fresh: written at once, then every `everyMs`, and again each time the
 * connection comes back. Its value is the agent's clock, which central Ferry never compares with its
 * own (see {@link AgentSighting}); a failed write is tried at the next beat.
 */
export function startHeartbeat(redis: RedisClient, keys: AgentKeys, everyMs: number): { stop(): void } {
  const beat = () => void redis.set(keys.heartbeat, String(Date.now()), "PX", HEARTBEAT_TTL_MS).catch(() => undefined);
  beat();
  const timer = setInterval(beat, everyMs);
  redis.on("ready", beat);
  return {
    stop: () => {
      clearInterval(timer);
      redis.off("ready", beat);
    },
  };
}

/**
 * When central Ferry last saw an agent, by its own clock: the agent counts as seen whenever its
 * heartbeat's value changed since the last look, so clock skew between the agent and Ferry never
 * matters. Watching starts as a sighting: an agent gets a full timeout from the first look.
 */
export class AgentSighting {
  private value: string | null;
  private seenAt: number;

  /** Starts from the heartbeat's value at the first look, at `now`. */
  constructor(value: string | null, now: number) {
    this.value = value;
    this.seenAt = now;
  }

  /** Takes a new look at the heartbeat's value; true when it changed (the agent was seen). */
  look(value: string | null, now: number): boolean {
    const seen = value !== null && value !== this.value;
    if (seen) this.seenAt = now;
    this.value = value;
    return seen;
  }

  /** What {@link lastSighting} keeps of it. */
  toJSON(): { value: string | null; seenAt: number } {
    return { value: this.value, seenAt: this.seenAt };
  }

  /** How long the agent has gone unseen at `now`. */
  unseenFor(now: number): number {
    return now - this.seenAt;
  }
}

/** Reads an agent's heartbeat value (null when it never beat, or not for a day). */
export function readHeartbeat(redis: RedisClient, keys: AgentKeys): Promise<string | null> {
  return redis.get(keys.heartbeat);
}

/**
 * Where central Ferry keeps its last sighting of `cluster`'s agent, for the next follow to resume.
 * Not an agent key: agents never read it (their ACL covers only their own tag).
 */
export function sightingKey(cluster: string): string {
  return `ferry:agent-sighting:${cluster}`;
}

/**
 * Central Ferry's sighting of an agent, resumed from the last follow's while the heartbeat has not
 * changed since: an agent gone for longer than `agentTimeout` is unreachable at once, instead of
 * after a full timeout for each job (a dead edge site's reconciles would each hold a worker slot that
 * long). A heartbeat that changed since is a sighting now. `remember` keeps each new sighting for the
 * next follow. The sighting is kept by central workers' clocks, never compared with the agent's.
 */
export async function lastSighting(
  redis: RedisClient,
  keys: AgentKeys,
  now: number,
): Promise<{ sighting: AgentSighting; remember: () => Promise<void> }> {
  const [value, stored] = await Promise.all([readHeartbeat(redis, keys), redis.get(sightingKey(keys.cluster))]);
  const last = stored === null ? undefined : (JSON.parse(stored) as { value: string | null; seenAt: number });
  const sighting = new AgentSighting(value, last?.value === value ? Math.min(last.seenAt, now) : now);
  const remember = async () => {
    await redis.set(sightingKey(keys.cluster), JSON.stringify(sighting), "PX", HEARTBEAT_TTL_MS);
  };
  if (last?.value !== value) await remember();
  return { sighting, remember };
}
