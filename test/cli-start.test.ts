import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { readlinkSync } from "node:fs";
import { mkdtemp, rm, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { freePort } from "../src/redis/redis-server.js";

const ROOT = new URL("..", import.meta.url).pathname;

/** The `node bin/ferry.js` process `npm start` started, in the process group led by npm. */
function ferryPid(group: number): number {
  const out = execFileSync("ps", ["-eo", "pid=,pgid=,args="], { encoding: "utf8" });
  const line = out.split("\n").find((l) => {
    const [, pgid, program] = l.trim().split(/\s+/);
    return Number(pgid) === group && /(^|\/)node$/.test(program ?? "") && l.includes("bin/ferry.js serve");
  });
  assert.ok(line, `no Ferry process in group ${group}:\n${out}`);
  return Number(line.trim().split(/\s+/)[0]);
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

test("`npm start` with no configuration starts an embedded Redis, answers /healthz and stops cleanly on SIGTERM", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "ferry-start-"));
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), FERRY_DATA_DIR: dataDir, LOG_FORMAT: "json" };
  for (const key of ["REDIS_URL", "APP_ID", "PRIVATE_KEY", "PRIVATE_KEY_PATH", "WEBHOOK_SECRET"]) delete env[key];
  const child = spawn("npm", ["start", "--silent"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  try {
    let health: Response | undefined;
    for (let i = 0; i < 150 && !health; i++) {
      health = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
      if (!health) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(health, `Ferry did not answer /healthz:\n${output}`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: "ok" });
    assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
    const home = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    assert.match(home, /GitHub App: not configured/);
    assert.match(home, /app\.yml/);
    assert.equal(redisServersUnder(dataDir).length, 1, "an embedded redis-server runs with data in the data dir");
    assert.ok((await readdir(join(dataDir, "redis"))).length > 0, "Redis keeps its files in .ferry/redis");

    // npm does not pass signals on to its script, so SIGTERM goes to Ferry's own process, as a
    // container runtime would send it (the image runs `node bin/ferry.js` as PID 1).
    process.kill(ferryPid(child.pid!), "SIGTERM");
    for (let i = 0; i < 100 && !/"msg":"stopped"/.test(output); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(output, /shutting down/);
    assert.match(output, /"msg":"stopped"/, output);
    assert.deepEqual(redisServersUnder(dataDir), [], "no redis-server is left behind");
    await exited; // npm ends once its script has
  } finally {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, "SIGKILL");
    await rm(dataDir, { recursive: true, force: true });
  }
});
