import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Redis } from "ioredis";
import { startTestRedis } from "../../test/support/redis.js";
import { permanent } from "../errors.js";
import type { DeploymentState, DeploymentTarget, Forge } from "../forge/types.js";
import { connectRedis } from "../queue/redis-connection.js";
import { DeploymentSender, type DeploymentUpdate } from "./deployment-sender.js";
import type { UndeliveredStatus } from "./status-sender.js";

/** What a recording forge was asked: records made, and every state sent to each. */
interface Recorded {
  created: DeploymentTarget[];
  states: Array<{ id: number; state: DeploymentState; description: string }>;
}

/** A forge that keeps its deployments in memory, found by (environment, sha) as the real ones are. */
function recordingForge(name: string, refuse = false): { forge: Forge; seen: Recorded } {
  const seen: Recorded = { created: [], states: [] };
  const forge = {
    repo: { forge: "github", fullName: `acme/${name}` },
    ensureDeployment: (target: DeploymentTarget) => {
      if (refuse) return Promise.reject(permanent("GitHub: 403 Resource not accessible by integration"));
      const found = seen.created.findIndex((t) => t.environment === target.environment && t.sha === target.sha);
      if (found >= 0) return Promise.resolve(found + 1);
      seen.created.push(target);
      return Promise.resolve(seen.created.length);
    },
    setDeploymentState: (id: number, state: DeploymentState, details: { description: string }) => {
      seen.states.push({ id, state, description: details.description });
      return Promise.resolve();
    },
  } as unknown as Forge;
  return { forge, seen };
}

const target = (sha: string, production = false): DeploymentTarget => ({
  environment: "staging",
  sha,
  branch: "main",
  rolloutId: `r-${sha}`,
  production,
  transient: false,
});
const update = (sha: string, state: DeploymentState, description: string, production = false): DeploymentUpdate => ({
  target: target(sha, production),
  state,
  details: { description, logUrl: `https://ferry.example.com/rollouts/r-${sha}` },
});

describe("DeploymentSender", () => {
  let server: Awaited<ReturnType<typeof startTestRedis>>;
  let a: Redis;
  let b: Redis;
  before(async () => {
    server = await startTestRedis();
    a = connectRedis(server.url);
    b = connectRedis(server.url);
  });
  after(async () => {
    a?.disconnect();
    b?.disconnect();
    await server?.stop();
  });

  it("makes one record per environment and commit and sends its states in order", async () => {
    const { forge, seen } = recordingForge("one");
    const sender = new DeploymentSender(forge, a);
    sender.post(update("aaa", "queued", "queued"));
    sender.post(update("aaa", "in_progress", "deploying"));
    sender.post(update("aaa", "success", "deployed"));
    await sender.settled();
    assert.equal(seen.created.length, 1);
    assert.equal(seen.states.at(-1)?.state, "success");
    assert.deepEqual(
      seen.states.map((s) => s.id),
      seen.states.map(() => 1),
    );
  });

  it("across workers: finds the record again through Redis, and sends each state once and only forward", async () => {
    const { forge, seen } = recordingForge("two");
    const first = new DeploymentSender(forge, a);
    const second = new DeploymentSender(forge, b);
    first.post(update("bbb", "in_progress", "deploying"));
    await first.settled();
    second.post(update("bbb", "queued", "queued (late)"));
    second.post(update("bbb", "in_progress", "waiting: 0/1 Deployment available"));
    second.post(update("bbb", "success", "deployed"));
    second.post(update("bbb", "success", "deployed again"));
    await second.settled();
    assert.equal(seen.created.length, 1);
    assert.deepEqual(
      seen.states.map((s) => `${s.state}: ${s.description}`),
      ["in_progress: deploying", "success: deployed"],
    );
  });

  it("retires the previous live deployment of a production environment when a newer one succeeds", async () => {
    const { forge, seen } = recordingForge("three");
    const sender = new DeploymentSender(forge, a);
    sender.post(update("c1", "success", "deployed", true));
    await sender.settled();
    sender.post(update("c2", "success", "deployed", true));
    await sender.settled();
    assert.deepEqual(
      seen.states
        .filter((s) => s.description !== "queued" && s.description !== "releasing")
        .map((s) => `${s.id} ${s.state}: ${s.description}`),
      ["1 success: deployed", "2 success: deployed", "1 inactive: replaced by c2"],
    );
  });

  it("tells of a state the forge refused, without failing settled", async () => {
    const { forge } = recordingForge("four", true);
    const refused: UndeliveredStatus<DeploymentUpdate>[] = [];
    const sender = new DeploymentSender(forge, a, { onUndelivered: (u) => refused.push(u) });
    sender.post(update("ddd", "success", "deployed"));
    await sender.settled();
    assert.equal(refused.length, 1);
    assert.equal(refused[0]?.refused, true);
  });

  it("yields to what it is told to wait for (the job's commit statuses) before each send", async () => {
    const { forge, seen } = recordingForge("five");
    let release = () => undefined as void;
    const statusesIdle = new Promise<void>((resolve) => (release = resolve));
    const sender = new DeploymentSender(forge, a, {}, () => statusesIdle);
    sender.post(update("eee", "queued", "queued"));
    sender.post(update("eee", "in_progress", "deploying"));
    sender.post(update("eee", "success", "deployed"));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(seen.states.length, 0, "nothing sent while the statuses are busy");
    release();
    await sender.settled();
    assert.deepEqual(
      seen.states.map((s) => s.state),
      ["queued", "in_progress", "success"],
      "the backlog's intermediate state was coalesced away, and filled in (described as releasing) before the final one",
    );
  });
});
