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

  /** Takes a new look at the heartbeat's value. */
  look(value: string | null, now: number): void {
    if (value !== null && value !== this.value) this.seenAt = now;
    this.value = value;
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
