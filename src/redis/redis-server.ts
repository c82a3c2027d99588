import { spawn, type ChildProcess } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { createServer } from "node:net";
import { Redis } from "ioredis";

/** A `redis-server` process Ferry started itself: the embedded default, and the tests' Redis. */
export interface RedisServer {
  /** `redis://127.0.0.1:PORT`. */
  url: string;
  /** Loopback port it listens on. */
  port: number;
  /** Stops the server and waits for it to exit (SHUTDOWN, so append-only data is flushed). */
  stop(): Promise<void>;
  /** Kills the process at once, as a crash would. */
  kill(): Promise<void>;
}

/** Options for {@link startRedisServer}. */
export interface RedisServerOptions {
  /** Directory for the data files (append-only file included). */
  dir: string;
  /** Port to listen on; a free loopback port when omitted. */
  port?: number;
  /** Append-only persistence; on by default so accepted jobs survive a restart. */
  appendOnly?: boolean;
  /** The binary; `redis-server` from PATH by default. */
  binary?: string;
}

/** Finds a free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/**
 * Starts `redis-server` on loopback with its data in `dir` and resolves once it answers PING.
 * Fails with an install hint when the binary is not on PATH.
 */
export async function startRedisServer(options: RedisServerOptions): Promise<RedisServer> {
  await mkdir(options.dir, { recursive: true });
  const port = options.port ?? (await freePort());
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    options.dir,
    "--appendonly",
    options.appendOnly === false ? "no" : "yes",
    "--appendfsync",
    "everysec",
    "--save",
    "",
    "--protected-mode",
    "yes",
    "--daemonize",
    "no",
    "--loglevel",
    "warning",
  ];
  const child = spawn(options.binary ?? "redis-server", args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const spawnError = new Promise<never>((_, reject) =>
    child.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "ENOENT"
          ? new Error(
              "redis-server is not installed: install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or set REDIS_URL",
            )
          : error,
      ),
    ),
  );
  const url = `redis://127.0.0.1:${port}`;
  await Promise.race([spawnError, waitForPing(url, exited, () => stderr)]);
  return {
    url,
    port,
    stop: () => stopProcess(child, exited, url),
    kill: async () => {
      child.kill("SIGKILL");
      await exited;
    },
  };
}

async function waitForPing(url: string, exited: Promise<number | null>, stderr: () => string): Promise<void> {
  let done = false;
  void exited.then(() => (done = true));
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (done) throw new Error(`redis-server exited: ${stderr().trim()}`);
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on("error", () => undefined);
    try {
      await client.connect();
      await client.ping();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    } finally {
      client.disconnect();
    }
  }
  throw new Error(`redis-server did not answer on ${url}: ${stderr().trim()}`);
}

async function stopProcess(child: ChildProcess, exited: Promise<number | null>, url: string): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.call("SHUTDOWN", "NOSAVE").catch(() => undefined);
  } catch {
    child.kill("SIGTERM");
  } finally {
    client.disconnect();
  }
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}
