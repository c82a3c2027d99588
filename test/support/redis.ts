import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import type { RedisTarget } from "../../src/queue/redis-connection.js";
import { freePort, startRedisServer, type RedisServer } from "../../src/redis/redis-server.js";
import { waitUntil } from "./wait-until.js";

/** A real redis-server on a free loopback port in a temp dir, for one test file; `stop` removes the dir. */
export async function startTestRedis(options: { appendOnly?: boolean } = {}): Promise<RedisServer & { dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), "ferry-redis-"));
  const server = await startRedisServer({ dir, appendOnly: options.appendOnly ?? false });
  return {
    ...server,
    dir,
    stop: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A process the tests started, stopped by killing it. */
interface TestProcess {
  stop(): Promise<void>;
}

/** Spawns `redis-server` with `args` and waits until `ready` (a PING-like check) passes. */
async function spawnRedis(args: string[], ready: () => Promise<boolean>): Promise<TestProcess> {
  // redis-server logs why it stopped (a port taken, say) to stdout.
  const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
  child.stderr.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  };
  const failed = () => `redis-server ${args.join(" ")} did not start: ${stderr}`;
  try {
    // An exited server ends the wait at once.
    await waitUntil(failed, async () => child.exitCode !== null || (await ready()), 10_000, 50);
    if (child.exitCode !== null) throw new Error(failed());
  } catch (error) {
    await stop();
    throw error;
  }
  return { stop };
}

async function answers(port: number, command: string[], expect: (reply: unknown) => boolean): Promise<boolean> {
  const client = new Redis({
    host: "127.0.0.1",
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    const [name = "", ...rest] = command;
    return expect(await client.call(name, ...rest));
  } finally {
    client.disconnect();
  }
}

/** A Redis primary with one Sentinel watching it under `name`, as REDIS_SENTINELS would point at it. */
export async function startTestSentinel(
  name = "ferry",
): Promise<{ sentinelPort: number; primary: RedisServer; stop(): Promise<void> }> {
  const primary = await startTestRedis();
  const dir = await mkdtemp(join(tmpdir(), "ferry-sentinel-"));
  const sentinelPort = await freePort();
  const conf = join(dir, "sentinel.conf");
  await writeFile(
    conf,
    [
      `port ${sentinelPort}`,
      "bind 127.0.0.1",
      `dir ${dir}`,
      `sentinel monitor ${name} 127.0.0.1 ${primary.port} 1`,
      "",
    ].join("\n"),
  );
  const sentinel = await spawnRedis([conf, "--sentinel"], () =>
    answers(
      sentinelPort,
      ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", name],
      (reply) => Array.isArray(reply) && reply[1] === String(primary.port),
    ),
  ).catch(async (error: unknown) => {
    await primary.stop();
    throw error;
  });
  return {
    sentinelPort,
    primary,
    stop: async () => {
      await sentinel.stop();
      await primary.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A running test Redis Cluster. */
export interface TestRedisCluster {
  /** The primaries' ports, on 127.0.0.1. */
  ports: number[];
  /** The cluster as Ferry is pointed at it (`REDIS_CLUSTER_NODES`), with `queueGroups` if given. */
  target(queueGroups?: number): RedisTarget;
  /** Kills the nodes and removes their directory. */
  stop(): Promise<void>;
}

/**
 * A Redis Cluster of `masters` primaries (default three, no replicas) on free loopback ports, made
 * with `redis-cli --cluster create`, which splits the slots evenly among them.
 */
export async function startTestRedisCluster(masters = 3): Promise<TestRedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), "ferry-redis-cluster-"));
  const nodes: TestProcess[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const ports: number[] = [];
    for (let i = 0; i < masters; i++) ports.push(await freePort());
    for (const port of ports) {
      const args = [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        dir,
        "--cluster-enabled",
        "yes",
        // The bus port is port + 10000 unless given: past 55535 that is no port, below it perhaps a taken one.
        "--cluster-port",
        String(await freePort()),
        // A node alone never learns its address from a peer, and CLUSTER SLOTS would name none.
        "--cluster-announce-ip",
        "127.0.0.1",
        "--cluster-config-file",
        `nodes-${port}.conf`,
        "--appendonly",
        "no",
        "--save",
        "",
        "--daemonize",
        "no",
      ];
      nodes.push(await spawnRedis(args, () => answers(port, ["PING"], (reply) => reply === "PONG")));
    }
    if (masters === 1) {
      // redis-cli --cluster create wants three masters; one gets every slot by hand.
      await answers(ports[0] ?? 0, ["CLUSTER", "ADDSLOTSRANGE", "0", "16383"], (reply) => reply === "OK");
    } else {
      await promisify(execFile)("redis-cli", [
        "--cluster",
        "create",
        ...ports.map((p) => `127.0.0.1:${p}`),
        "--cluster-replicas",
        "0",
        "--cluster-yes",
      ]);
    }
    const ok = (port: number) =>
      answers(port, ["CLUSTER", "INFO"], (reply) => String(reply).includes("cluster_state:ok"));
    await waitUntil(
      "the Redis Cluster did not reach cluster_state:ok",
      async () => (await Promise.all(ports.map(ok))).every(Boolean),
      20_000,
    );
    return {
      ports,
      target: (queueGroups) => ({
        kind: "cluster",
        nodes: ports.map((port) => ({ host: "127.0.0.1", port })),
        ...(queueGroups === undefined ? {} : { queueGroups }),
      }),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Which Redis the end-to-end harness starts for Ferry: `server` (one redis-server, the default) or
 * `cluster` (three masters), from `FERRY_TEST_REDIS`, so the same suites run on both.
 */
export function testRedisKind(env: NodeJS.ProcessEnv = process.env): "server" | "cluster" {
  const kind = env.FERRY_TEST_REDIS ?? "server";
  if (kind !== "server" && kind !== "cluster")
    throw new Error(`FERRY_TEST_REDIS must be server or cluster, not "${kind}"`);
  return kind;
}
