import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Queue, Worker, type Job } from "bullmq";
import { Cluster, type Redis } from "ioredis";
import {
  startTestRedis,
  startTestRedisCluster,
  startTestSentinel,
  type TestRedisCluster,
} from "../../test/support/redis.js";
import { waitUntil } from "../../test/support/wait-until.js";
import { connectRedis, openRedis, type RedisClient } from "../queue/redis-connection.js";
import { AGENT_COMMANDS, agentAclArgs, agentKillArgs, applyAgentAcl, newAgentSecret } from "./agent-acl.js";
import { AGENT_RELEASE_QUEUE, agentKeys, cancelKey } from "./agent-keys.js";

/** What the manifests of cluster b say, which cluster a's agent must never read. */
const B_SECRET_DATA = "b-only-manifest-value";

/** Arguments of each command an agent may send, its key(s) as `K` (and `K2`): what ACL DRYRUN judges. */
function sampleArgs(command: string): string[] {
  const K = "K";
  switch (command) {
    case "ping":
    case "quit":
    case "client|setname":
      return ["ferry-agent"];
    case "cluster|slots":
    case "cluster|info":
    case "asking":
    case "readonly":
    case "readwrite":
    case "multi":
    case "exec":
    case "discard":
      return [];
    case "bzpopmin":
      return [K, "1"];
    case "eval":
      return ["return 1", "1", K];
    case "evalsha":
      return ["0123456789012345678901234567890123456789", "1", K];
    case "set":
    case "lpush":
    case "rpush":
    case "sadd":
    case "srem":
    case "sismember":
    case "lpos":
    case "hget":
    case "hdel":
    case "hexists":
    case "hmget":
    case "zscore":
    case "zrem":
    case "pexpire":
    case "lindex":
      return [K, "1"];
    case "hset":
    case "hmset":
    case "hincrby":
    case "lset":
    case "ltrim":
    case "lrange":
    case "lrem":
    case "zadd":
    case "zcount":
    case "zrange":
    case "zrangebyscore":
    case "zremrangebyrank":
    case "zremrangebyscore":
    case "zrevrange":
    case "zrevrangebyscore":
      return [K, "1", "1"];
    case "xadd":
      return [K, "*", "f", "v"];
    case "xtrim":
      return [K, "MAXLEN", "10"];
    case "rename":
    case "rpoplpush":
      return [K, "K2"];
    default:
      return [K];
  }
}

describe("an agent's Redis user (real redis-server with ACLs)", () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let admin: Redis;
  const a = agentKeys("edge-a");
  const b = agentKeys("edge-b");
  const secretA = newAgentSecret();
  const secretB = newAgentSecret();
  const as = (user: string, password: string, blocking = false) =>
    connectRedis(redis.url, {
      username: user,
      password,
      enableReadyCheck: false,
      maxRetriesPerRequest: blocking ? null : 1,
      ...(blocking ? {} : { retryStrategy: () => null }),
    });
  const opened: Array<{ close(force?: boolean): Promise<void> } | { disconnect(): void }> = [];
  const asA = (blocking = false) => {
    const c = as(a.user, secretA, blocking);
    opened.push(c);
    return c;
  };
  let bJob: Job;

  before(async () => {
    redis = await startTestRedis();
    admin = connectRedis(redis.url);
    await admin.call("ACL", ...agentAclArgs(a, secretA));
    await admin.call("ACL", ...agentAclArgs(b, secretB));
    const central = new Queue(AGENT_RELEASE_QUEUE, { connection: admin, prefix: b.prefix });
    bJob = await central.add("release", { cluster: "edge-b", rendered: [{ data: { v: B_SECRET_DATA } }] });
    await admin.set(cancelKey(b, bJob.id ?? ""), "{}");
    await admin.set(b.heartbeat, "1");
    await admin.set("ferry:rollout:central", "x");
    await central.close();
  });
  after(async () => {
    for (const c of opened.reverse()) {
      if ("close" in c) await c.close(true).catch(() => undefined);
      else c.disconnect();
    }
    admin?.disconnect();
    await redis?.stop();
  });

  it("may send every command an agent needs on its own keys, and none of them on another cluster's", async () => {
    for (const command of AGENT_COMMANDS) {
      const args = sampleArgs(command).map((arg) =>
        arg === "K" ? `${a.prefix}:x` : arg === "K2" ? `${a.prefix}:y` : arg,
      );
      const name = command.split("|");
      assert.equal(await admin.call("ACL", "DRYRUN", a.user, ...name, ...args), "OK", `${command} on its own keys`);
      const keyed = sampleArgs(command).includes("K");
      if (!keyed) continue;
      for (const other of [`${b.prefix}:x`, "ferry:rollout:central", "bull:ferry-release:1"]) {
        const refused = String(
          await admin.call(
            "ACL",
            "DRYRUN",
            a.user,
            command,
            ...sampleArgs(command).map((arg) => (arg === "K" ? other : arg === "K2" ? `${a.prefix}:y` : arg)),
          ),
        );
        assert.match(refused, /no permissions to access the '.*' key/, `${command} on ${other}`);
      }
    }
  });

  it("runs a real BullMQ worker on its own queue, with nothing refused", async () => {
    const central = new Queue(AGENT_RELEASE_QUEUE, { connection: admin, prefix: a.prefix });
    opened.push(central);
    await central.add("release", { cluster: "edge-a" }, { jobId: "release-r1-edge-a", attempts: 2 });
    const connection = asA(true);
    const worker = new Worker(
      AGENT_RELEASE_QUEUE,
      async (job) => {
        await job.updateProgress({ description: "deploying" });
        return { kind: "released" };
      },
      { connection, prefix: a.prefix, skipVersionCheck: true, lockDuration: 2000, stalledInterval: 2000 },
    );
    opened.push(worker);
    await waitUntil(
      "the agent's job never completed",
      async () =>
        (await central.getJob("release-r1-edge-a"))?.returnvalue !== undefined &&
        (await central.getJob("release-r1-edge-a"))?.returnvalue !== null,
      10_000,
    );
    const job = await central.getJob("release-r1-edge-a");
    assert.deepEqual(job?.returnvalue, { kind: "released" });
    assert.deepEqual(job?.progress, { description: "deploying" });
    // Wait for the worker's next blocking read and a stalled-jobs check, then read what Redis refused.
    await new Promise((r) => setTimeout(r, 2500));
    const log = (await admin.call("ACL", "LOG")) as unknown[];
    assert.equal(JSON.stringify(log).includes(a.user), false, `refused: ${JSON.stringify(log)}`);
  });

  it("cannot read, add, move or delete another cluster's jobs, or read its manifests, through BullMQ", async () => {
    const connection = asA();
    const theirs = new Queue(AGENT_RELEASE_QUEUE, { connection, prefix: b.prefix, skipVersionCheck: true });
    opened.push(theirs);
    const id = bJob.id ?? "";
    const refusals: Array<[string, () => Promise<unknown>]> = [
      ["read the job (its manifests)", () => theirs.getJob(id)],
      ["read the job's hash", () => connection.hgetall(`${b.prefix}:${AGENT_RELEASE_QUEUE}:${id}`)],
      ["count the jobs", () => theirs.getJobCounts()],
      ["add a job", () => theirs.add("release", { cluster: "edge-b" })],
      ["move waiting jobs (pause)", () => theirs.pause()],
      ["move failed jobs back (retry)", () => theirs.retryJobs()],
      ["take a job (BZPOPMIN its marker)", () => connection.bzpopmin(`${b.prefix}:${AGENT_RELEASE_QUEUE}:marker`, 1)],
      [
        "take a job (RPOPLPUSH wait to active)",
        () => connection.rpoplpush(`${b.prefix}:${AGENT_RELEASE_QUEUE}:wait`, `${a.prefix}:stolen`),
      ],
      ["delete the job", () => theirs.remove(id)],
      ["delete every job (drain)", () => theirs.drain()],
      ["delete the queue (obliterate)", () => theirs.obliterate({ force: true })],
      ["post an event", () => connection.xadd(`${b.prefix}:${AGENT_RELEASE_QUEUE}:events`, "*", "event", "completed")],
      ["read its heartbeat", () => connection.get(b.heartbeat)],
      ["fake its heartbeat", () => connection.set(b.heartbeat, "2")],
      ["clear a cancel mark", () => connection.del(cancelKey(b, id))],
      [
        "read it from a script",
        () => connection.eval("return redis.call('hgetall', KEYS[1])", 1, `${b.prefix}:${AGENT_RELEASE_QUEUE}:${id}`),
      ],
      [
        "reach around key checks in a script",
        () => connection.eval(`return redis.call('hgetall', '${b.prefix}:${AGENT_RELEASE_QUEUE}:${id}')`, 0),
      ],
      ["read central Ferry's keys", () => connection.get("ferry:rollout:central")],
      ["list keys (SCAN)", () => connection.scan(0)],
      ["list keys (KEYS)", () => connection.keys("*")],
      ["find a key (RANDOMKEY)", () => connection.randomkey()],
      ["read server state (INFO)", () => connection.info()],
      ["subscribe to channels", () => asA().subscribe("anything")],
    ];
    for (const [what, attempt] of refusals)
      await assert.rejects(
        attempt(),
        // A script touching a key the user may not: Redis answers "ERR The user executing the script can't access…".
        /NOPERM|user executing the script can't access/,
        `an agent of edge-a could ${what} of edge-b`,
      );
    // A worker on the other queue gets nothing: its reads are refused, and the job stays where it was.
    const thief = new Worker(AGENT_RELEASE_QUEUE, () => Promise.resolve("stolen"), {
      connection: asA(true),
      prefix: b.prefix,
      skipVersionCheck: true,
      // Its stalled-jobs timer outlives close(): keep it short so the test ends.
      stalledInterval: 1000,
    });
    opened.push(thief);
    const errors: string[] = [];
    thief.on("error", (error) => errors.push(error.message));
    await waitUntil(
      () => `the thief worker was never refused (${errors.join("; ")})`,
      () => errors.some((e) => /NOPERM/.test(e)),
      10_000,
    );
    assert.equal(await admin.call("HGET", `${b.prefix}:${AGENT_RELEASE_QUEUE}:${id}`, "finishedOn"), null);
    const central = new Queue(AGENT_RELEASE_QUEUE, { connection: admin, prefix: b.prefix });
    opened.push(central);
    assert.equal(await central.getJobState(id), "waiting");
    // Events of the other queue: QueueEvents reads them with XREAD, refused.
    await assert.rejects(
      connection.xread("COUNT", 1, "STREAMS", `${b.prefix}:${AGENT_RELEASE_QUEUE}:events`, "0"),
      /NOPERM/,
    );
  });

  it("a rotated secret locks the old one out, including connections already logged in", async () => {
    const rotated = agentKeys("edge-r");
    const old = newAgentSecret();
    await admin.call("ACL", ...agentAclArgs(rotated, old));
    const before = as(rotated.user, old);
    assert.equal(await before.ping(), "PONG");
    const fresh = newAgentSecret();
    await admin.call("ACL", ...agentAclArgs(rotated, fresh));
    await admin.call("CLIENT", ...agentKillArgs(rotated));
    await waitUntil("the old connection was not ended", () => before.status !== "ready", 5_000);
    before.disconnect();
    const again = as(rotated.user, old);
    await assert.rejects(again.ping(), /WRONGPASS|NOAUTH|max retries|Connection is closed/);
    again.disconnect();
    const now = as(rotated.user, fresh);
    assert.equal(await now.ping(), "PONG");
    now.disconnect();
    // The rule holds the secret's hash, never the secret.
    const rule = JSON.stringify(await admin.call("ACL", "GETUSER", rotated.user));
    assert.equal(rule.includes(fresh), false);
  });
});

describe("an agent's Redis user on a Redis Cluster of three primaries", () => {
  let cluster: TestRedisCluster;
  let admin: RedisClient;
  // Their hash tags fall on different primaries (slots 6690 and 14944 of 0-5460, 5461-10922, 10923-16383).
  const a = agentKeys("edge-a");
  const c = agentKeys("edge-c");
  const secretA = newAgentSecret();
  const secretC = newAgentSecret();
  const opened: Array<{ close(force?: boolean): Promise<void> } | { disconnect(): void }> = [];
  const asA = () => {
    const target = cluster.target();
    // As the agent connects: no per-node ready check (it sends INFO, which the user may not).
    const connection = openRedis(
      { ...target, auth: { username: a.user, password: secretA } },
      { enableReadyCheck: false },
    );
    opened.push(connection);
    return connection;
  };
  /** Each primary's own connection (ACLs and their log are per node). */
  const primaries = () => (admin as Cluster).nodes("master");

  before(async () => {
    cluster = await startTestRedisCluster(3);
    admin = openRedis(cluster.target());
    assert.equal(await applyAgentAcl(admin, a, secretA), 3, "the rule went on every node");
    assert.equal(await applyAgentAcl(admin, c, secretC), 3);
  });
  after(async () => {
    for (const o of opened.reverse()) {
      if ("close" in o) await o.close(true).catch(() => undefined);
      else o.disconnect();
    }
    admin?.disconnect();
    await cluster?.stop();
  });

  it("keeps each agent's keys on one slot, and two agents' on different primaries", async () => {
    const slot = async (key: string) => Number(await admin.call("CLUSTER", "KEYSLOT", key));
    for (const keys of [a, c]) {
      const slots = new Set(
        await Promise.all(
          [keys.heartbeat, cancelKey(keys, "j1"), `${keys.prefix}:${AGENT_RELEASE_QUEUE}:wait`].map(slot),
        ),
      );
      assert.equal(slots.size, 1, `${keys.cluster}'s keys span slots ${[...slots].join(", ")}`);
    }
    await admin.set(a.heartbeat, "1");
    await admin.set(c.heartbeat, "1");
    // A primary that does not hold a key's slot answers MOVED.
    const holds = (node: Redis, key: string) => node.exists(key).catch(() => 0);
    const holders = await Promise.all(
      primaries().map(async (node) => [await holds(node, a.heartbeat), await holds(node, c.heartbeat)]),
    );
    assert.equal(holders.filter(([x]) => x === 1).length, 1);
    assert.equal(holders.filter(([, y]) => y === 1).length, 1);
    assert.notDeepEqual(
      holders.findIndex(([x]) => x === 1),
      holders.findIndex(([, y]) => y === 1),
      "the two agents' keys share a primary: the test proves nothing about a rule missing on one node",
    );
  });

  it("runs a real BullMQ worker through ioredis's Cluster client, with nothing refused on any node", async () => {
    const central = new Queue(AGENT_RELEASE_QUEUE, { connection: admin, prefix: a.prefix });
    opened.push(central);
    await central.add("release", { cluster: "edge-a" }, { jobId: "release-r1-edge-a", attempts: 2 });
    const worker = new Worker(
      AGENT_RELEASE_QUEUE,
      async (job) => {
        await job.updateProgress({ description: "deploying" });
        return { kind: "released" };
      },
      { connection: asA(), prefix: a.prefix, skipVersionCheck: true, lockDuration: 2000, stalledInterval: 2000 },
    );
    opened.push(worker);
    await waitUntil(
      "the agent's job never completed on the Cluster",
      async () =>
        ((await central.getJob("release-r1-edge-a"))?.returnvalue as { kind?: string } | null)?.kind === "released",
      15_000,
    );
    // Wait for the worker's next blocking read and a stalled-jobs check, then read what each node refused.
    await new Promise((r) => setTimeout(r, 2500));
    for (const node of primaries()) {
      const log = JSON.stringify(await node.call("ACL", "LOG"));
      assert.equal(log.includes(a.user), false, `${node.options.port} refused: ${log}`);
    }
  });

  it("refuses another agent's keys with NOPERM on the node that holds them", async () => {
    const central = new Queue(AGENT_RELEASE_QUEUE, { connection: admin, prefix: c.prefix });
    opened.push(central);
    const job = await central.add("release", { cluster: "edge-c", rendered: [{ data: { v: "c-only" } }] });
    const id = job.id ?? "";
    const connection = asA();
    const theirs = new Queue(AGENT_RELEASE_QUEUE, { connection, prefix: c.prefix, skipVersionCheck: true });
    opened.push(theirs);
    const refusals: Array<[string, () => Promise<unknown>]> = [
      ["read the job (its manifests)", () => theirs.getJob(id)],
      ["read the job's hash", () => connection.hgetall(`${c.prefix}:${AGENT_RELEASE_QUEUE}:${id}`)],
      ["add a job", () => theirs.add("release", { cluster: "edge-c" })],
      ["delete the job", () => theirs.remove(id)],
      ["take a job (BZPOPMIN its marker)", () => connection.bzpopmin(`${c.prefix}:${AGENT_RELEASE_QUEUE}:marker`, 1)],
      ["read its heartbeat", () => connection.get(c.heartbeat)],
      ["fake its heartbeat", () => connection.set(c.heartbeat, "2")],
      ["read central Ferry's keys", () => connection.get("{ferry}:rollout:x")],
      ["read server state (INFO)", () => connection.info()],
    ];
    for (const [what, attempt] of refusals)
      await assert.rejects(
        attempt(),
        /NOPERM|user executing the script can't access/,
        `an agent of edge-a could ${what} of edge-c`,
      );
    assert.equal(await central.getJobState(id), "waiting");
    // Its own keys still answer through the same connection.
    assert.equal(await connection.set(a.heartbeat, "3"), "OK");
  });
});

describe("an agent's Redis user through Sentinel", () => {
  let sentinel: Awaited<ReturnType<typeof startTestSentinel>>;
  let admin: RedisClient;
  const a = agentKeys("edge-s");
  const secret = newAgentSecret();
  const opened: Array<{ close(force?: boolean): Promise<void> } | { disconnect(): void }> = [];
  const through = (auth?: { username: string; password: string }) => {
    const target = {
      kind: "sentinel" as const,
      sentinels: [{ host: "127.0.0.1", port: sentinel.sentinelPort }],
      name: "ferry",
      ...(auth ? { auth } : {}),
    };
    // As the agent connects: no ready check (it sends INFO, which the user may not).
    const connection = openRedis(target, auth ? { enableReadyCheck: false } : {});
    opened.push(connection);
    return connection;
  };

  before(async () => {
    sentinel = await startTestSentinel("ferry");
    admin = through();
    assert.equal(await applyAgentAcl(admin, a, secret), 1, "the rule went on the primary Sentinel named");
  });
  after(async () => {
    for (const o of opened.reverse()) {
      if ("close" in o) await o.close(true).catch(() => undefined);
      else o.disconnect();
    }
    await sentinel?.stop();
  });

  it("runs a real BullMQ worker on the primary Sentinel names, with nothing refused", async () => {
    const central = new Queue(AGENT_RELEASE_QUEUE, { connection: admin, prefix: a.prefix });
    opened.push(central);
    await central.add("release", { cluster: "edge-s" }, { jobId: "release-r1-edge-s", attempts: 2 });
    const worker = new Worker(
      AGENT_RELEASE_QUEUE,
      async (job) => {
        await job.updateProgress({ description: "deploying" });
        return { kind: "released" };
      },
      {
        connection: through({ username: a.user, password: secret }),
        prefix: a.prefix,
        skipVersionCheck: true,
        lockDuration: 2000,
        stalledInterval: 2000,
      },
    );
    opened.push(worker);
    await waitUntil(
      "the agent's job never completed through Sentinel",
      async () =>
        ((await central.getJob("release-r1-edge-s"))?.returnvalue as { kind?: string } | null)?.kind === "released",
      15_000,
    );
    // Wait for the worker's next blocking read and a stalled-jobs check, then read what the primary refused.
    await new Promise((r) => setTimeout(r, 2500));
    const log = JSON.stringify(await admin.call("ACL", "LOG"));
    assert.equal(log.includes(a.user), false, `the primary refused: ${log}`);
  });
});
