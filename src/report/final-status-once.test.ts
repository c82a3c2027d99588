import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Redis } from "ioredis";
import { startTestRedis } from "../../test/support/redis.js";
import type { CommitStatus, Forge } from "../forge/types.js";
import { connectRedis } from "../queue/redis-connection.js";
import { finalStatusOnce } from "./final-status-once.js";

/** A forge that keeps the statuses it was sent, as two workers' forges would share one repository. */
function recordingForge(name: string): { forge: Forge; sent: CommitStatus[] } {
  const sent: CommitStatus[] = [];
  const forge = {
    repo: { forge: "github", fullName: `acme/${name}` },
    setStatus: (_sha: string, status: CommitStatus) => (sent.push(status), Promise.resolve()),
    statusOf: (_sha: string, context: string) =>
      Promise.resolve([...sent].reverse().find((s) => s.context === context)),
  } as unknown as Forge;
  return { forge, sent };
}

describe("finalStatusOnce", () => {
  let server: Awaited<ReturnType<typeof startTestRedis>>;
  let a: Redis;
  let b: Redis;
  let n = 0;
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

  const context = "ferry/deploy/staging";
  const at = (description: string, state: CommitStatus["state"], madeAt: number): CommitStatus => ({
    context,
    state,
    description,
    madeAt,
  });

  it("drops an intermediate status made before one already sent, across workers (a late 'queued' after 'deploying')", async () => {
    const { forge, sent } = recordingForge(`shop-${++n}`);
    const release = finalStatusOnce(forge, a);
    const deploy = finalStatusOnce(forge, b);
    await release.setStatus("abc", at("deploying", "running", 2_000));
    await deploy.setStatus("abc", at("queued", "pending", 1_000));
    await release.setStatus("abc", at("waiting: 0/1", "running", 3_000));
    assert.deepEqual(
      sent.map((s) => s.description),
      ["deploying", "waiting: 0/1"],
    );
  });

  it("never drops a final status for being made earlier, and nothing is sent after it", async () => {
    const { forge, sent } = recordingForge(`shop-${++n}`);
    const once = finalStatusOnce(forge, a);
    await once.setStatus("abc", at("waiting: 1/2", "running", 5_000));
    await once.setStatus("abc", at("deployed", "success", 4_000));
    await once.setStatus("abc", at("waiting: 2/2", "running", 6_000));
    await once.setStatus("abc", at("deployed again", "success", 7_000));
    assert.deepEqual(
      sent.map((s) => s.description),
      ["waiting: 1/2", "deployed"],
    );
  });

  it("keeps commits and contexts apart", async () => {
    const { forge, sent } = recordingForge(`shop-${++n}`);
    const once = finalStatusOnce(forge, a);
    await once.setStatus("abc", at("deploying", "running", 2_000));
    await once.setStatus("def", at("queued", "pending", 1_000));
    await once.setStatus("abc", { ...at("queued", "pending", 1_000), context: "ferry/deploy/production" });
    assert.deepEqual(
      sent.map((s) => s.description),
      ["deploying", "queued", "queued"],
    );
  });
});
