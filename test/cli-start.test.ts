import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { readlinkSync } from "node:fs";
import { mkdtemp, rm, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { freePort } from "../src/redis/redis-server.js";
import { waitUntil } from "./support/wait-until.js";

const ROOT = new URL("..", import.meta.url).pathname;

/** The processes in process group `group` (npm's, when npm leads it): `pid args` lines. */
function processesIn(group: number): string[] {
  const out = execFileSync("ps", ["-eo", "pid=,pgid=,args="], { encoding: "utf8" });
  return out
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter(([, pgid]) => Number(pgid) === group)
    .map(([pid, , ...args]) => `${pid} ${args.join(" ")}`);
}

/** redis-server processes working in `dir` (redis-server changes its working directory to --dir). */
function redisServersUnder(dir: string): string[] {
  const out = execFileSync("ps", ["-eo", "pid=,comm="], { encoding: "utf8" });
  return out
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter(([pid, comm]) => comm === "redis-server" && safeReadlink(`/proc/${pid}/cwd`).startsWith(dir))
    .map(([pid]) => pid ?? "");
}

function safeReadlink(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return "";
  }
}

test("`npm start` with no configuration starts an embedded Redis, answers /healthz, and stops cleanly, Redis and all, when npm gets SIGTERM", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "ferry-start-"));
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), FERRY_DATA_DIR: dataDir, LOG_FORMAT: "json" };
  for (const key of ["REDIS_URL", "APP_ID", "PRIVATE_KEY", "PRIVATE_KEY_PATH", "WEBHOOK_SECRET"]) delete env[key];
  const child = spawn("npm", ["start", "--silent"], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  let [exited, closed] = [false, false];
  child.once("exit", () => (exited = true));
  child.once("close", () => (closed = true)); // npm's output read to its end
  try {
    await waitUntil(
      () => `Ferry to answer /healthz:\n${output}`,
      async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok,
      30_000,
      200,
    );
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: "ok" });
    assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
    const home = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    assert.match(home, /GitHub App: not configured/);
    assert.match(home, /app\.yml/);
    assert.equal(redisServersUnder(dataDir).length, 1, "an embedded redis-server runs with data in the data dir");
    assert.ok((await readdir(join(dataDir, "redis"))).length > 0, "Redis keeps its files in .ferry/redis");

    assert.ok(
      processesIn(child.pid!).some((p) => / node bin\/ferry\.js serve$/.test(p)),
      "npm runs Ferry in its process group",
    );

    // A process supervisor stops what it started: npm. npm passes SIGTERM to its script, which must be
    // Ferry itself (`exec`), not a shell that dies of it and leaves Ferry and its redis-server running.
    process.kill(child.pid!, "SIGTERM");
    await waitUntil(
      () => `npm to exit:\n${output}`,
      () => exited,
      20_000,
    );
    assert.deepEqual(
      processesIn(child.pid!),
      [],
      "npm ended after everything it started, Ferry and its redis-server included",
    );
    await waitUntil("npm's output to end", () => closed, 5_000);
    assert.equal(child.exitCode, 0, output);
    assert.match(output, /shutting down/);
    assert.match(output, /"msg":"stopped"/);
    assert.deepEqual(redisServersUnder(dataDir), [], "no redis-server is left behind");
  } finally {
    // Whatever is left in npm's process group (npm, or what it left behind), so a failure leaks nothing.
    if (processesIn(child.pid!).length > 0) process.kill(-child.pid!, "SIGKILL");
    await rm(dataDir, { recursive: true, force: true });
  }
});
