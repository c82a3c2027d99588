import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import type { Redis } from "ioredis";
import { startTestRedis } from "../../test/support/redis.js";
import { waitUntil } from "../../test/support/wait-until.js";
import { KubeClient } from "../kube/kube-client.js";
import { createLogger } from "../logger.js";
import { connectRedis } from "../queue/redis-connection.js";
import { startRedisServer } from "../redis/redis-server.js";
import { agentKeys } from "./agent-keys.js";
import { DEFAULT_RECONNECT_PACING } from "./reconnect-delay.js";
import { startAgent, type RunningAgent } from "./start-agent.js";

/** Agents in this test: enough to see how their reconnects spread. */
const AGENTS = 30;
/** The reconnect pacing under test: production's (0.5 s doubling to 30 s). */
const PACING = DEFAULT_RECONNECT_PACING;
/** How long Redis stays away, as the issue asks. */
const OUTAGE_MS = 30_000;

describe("agents losing Redis (a real redis-server, killed and restarted)", () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let admin: Redis;
  const agents: RunningAgent[] = [];
  /** When each agent's connection became ready, by cluster. */
  const readyAt = new Map<string, number[]>();

  before(async () => {
    redis = await startTestRedis();
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) {
          const entry = JSON.parse(line) as { msg: string; time: number; agent?: string };
          if (entry.msg === "redis connection ready" && entry.agent)
            readyAt.set(entry.agent, [...(readyAt.get(entry.agent) ?? []), entry.time]);
        }
        done();
      },
    });
    const log = createLogger({ level: "info", destination: sink });
    for (let i = 0; i < AGENTS; i++) {
      const cluster = `edge-${i}`;
      agents.push(
        await startAgent({
          cluster,
          redis: { kind: "url", url: redis.url },
          // Never called: an idle agent talks only to Redis.
          client: KubeClient.fromConnection({ server: "https://127.0.0.1:9", rejectUnauthorized: true, headers: {} }),
          log: log.child({ agent: cluster }),
          port: 0,
          heartbeatMs: 500,
          claimMs: 5_000,
          reconnect: PACING,
        }),
      );
    }
    admin = connectRedis(redis.url);
  });
  after(async () => {
    for (const agent of agents) await agent.close();
    admin?.disconnect();
    await redis?.stop();
  });

  it("every agent comes back after the outage, its reconnects spread over the backoff window", async (t) => {
    const heartbeats = () => Promise.all(agents.map((_, i) => admin.get(agentKeys(`edge-${i}`).heartbeat)));
    await waitUntil("not every agent beat", async () => (await heartbeats()).every((v) => v !== null), 10_000);
    // Redis dies without a word, stays away for 30 s, and comes back empty at the same address.
    await redis.kill();
    admin.disconnect();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    // Counted from the restart: an agent may get in before the server answers the test's own PING.
    const backAt = Date.now();
    const restarted = await startRedisServer({ dir: redis.dir, port: redis.port, appendOnly: false });
    redis = { ...restarted, dir: redis.dir, stop: () => restarted.stop() };
    admin = connectRedis(redis.url);
    const back = () => [...readyAt.values()].map((times) => times.find((time) => time >= backAt));
    await waitUntil(
      () => `only ${back().filter((t) => t !== undefined).length}/${AGENTS} agents reconnected`,
      () => back().filter((time) => time !== undefined).length === AGENTS,
      PACING.capMs + 10_000,
    );
    // Their heartbeats are back too: the restarted Redis had none.
    await waitUntil("not every agent beat again", async () => (await heartbeats()).every((v) => v !== null), 5_000);
    const delays = back()
      .map((time) => (time ?? 0) - backAt)
      .sort((a, b) => a - b);
    const at = (q: number) => delays[Math.min(delays.length - 1, Math.floor(q * delays.length))] ?? 0;
    const busiest = Math.max(...delays.map((d) => delays.filter((e) => e >= d && e < d + 250).length));
    t.diagnostic(
      `reconnect after Redis came back (ms): p10 ${at(0.1)}, median ${at(0.5)}, p90 ${at(0.9)}, max ${at(1)}; ` +
        `busiest 250 ms: ${busiest}/${AGENTS} agents`,
    );
    // Spread, not a stampede: the middle 80 % span at least five seconds, and no quarter second holds half.
    assert.ok(at(0.9) - at(0.1) >= 5_000, `reconnects bunched: ${delays.join(", ")}`);
    assert.ok(busiest <= AGENTS / 2, `${busiest} agents reconnected within 250 ms: ${delays.join(", ")}`);
    assert.ok(at(1) <= PACING.capMs + 2_000, `an agent waited past the cap: ${delays.join(", ")}`);
  });
});
