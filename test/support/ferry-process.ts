import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import type { FerryHarness } from "./ferry-harness.js";
import { waitUntil } from "./wait-until.js";

const ROOT = new URL("../..", import.meta.url).pathname;

/** A Ferry role (`ferry web` or `ferry worker`) running as a process of its own, on the harness's Redis, forge and server config. */
export class FerryProcess {
  private constructor(
    private readonly child: ChildProcess,
    private readonly log: { text: string },
    /** Where the process serves HTTP (webhooks for the web role; health and metrics for both). */
    readonly url: string,
  ) {}

  /** Starts `ferry <role>` and returns once it says it started; `env` adds to the harness's forge environment. */
  static async start(
    h: FerryHarness,
    role: "web" | "worker",
    env: NodeJS.ProcessEnv = {},
    timeoutMs = 60_000,
  ): Promise<FerryProcess> {
    const fullEnv: NodeJS.ProcessEnv = {
      ...process.env,
      ...h.forge.ferryEnv(),
      REDIS_URL: h.redisUrl,
      LOG_FORMAT: "json",
      LOG_LEVEL: "info",
      ...env,
    };
    const started = role === "web" ? '"msg":"web listening"' : '"msg":"worker started"';
    const { child, log } = await spawnFerry(
      [role, "--config", h.configFile, "--port", "0"],
      fullEnv,
      started,
      timeoutMs,
    );
    const port = /"msg":"(?:web|health and metrics) listening"/.test(log.text)
      ? /"port":(\d+)/.exec(log.text)?.[1]
      : undefined;
    return new FerryProcess(child, log, port === undefined ? "" : `http://127.0.0.1:${port}`);
  }

  /**
   * Starts `ferry agent --cluster <cluster>` with only `env` besides PATH and HOME (no forge
   * credential: an agent holds none) and returns once it says it started; `args` add flags.
   */
  static async startAgent(
    cluster: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    timeoutMs = 60_000,
  ): Promise<FerryProcess> {
    const fullEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LOG_FORMAT: "json",
      LOG_LEVEL: "info",
      ...env,
    };
    const { child, log } = await spawnFerry(
      ["agent", "--cluster", cluster, "--port", "0", ...args],
      fullEnv,
      '"msg":"agent started"',
      timeoutMs,
    );
    const port = /"msg":"agent started"[^\n]*"port":(\d+)|"port":(\d+)[^\n]*"msg":"agent started"/.exec(log.text);
    return new FerryProcess(child, log, `http://127.0.0.1:${port?.[1] ?? port?.[2] ?? ""}`);
  }

  /** The process's id, to read its environment or memory from /proc. */
  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** The last 100,000 characters the process wrote. */
  output(): string {
    return this.log.text;
  }

  /** The most memory the process has held so far (VmHWM, bytes). */
  async peakRss(): Promise<number> {
    const status = await readFile(`/proc/${this.child.pid}/status`, "utf8");
    return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
  }

  /**
   * Ends the process with `signal` (SIGKILL: as a node that dies), waits until it exited and returns
   * its exit code (null when a signal ended it); given `timeoutMs`, a process still running by then
   * is killed and this throws.
   */
  async stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs?: number): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    const exited = once(this.child, "exit");
    this.child.kill(signal);
    if (timeoutMs !== undefined) {
      const gone = () => this.child.exitCode !== null || this.child.signalCode !== null;
      await waitUntil(() => `the process did not exit after ${signal}:\n${this.log.text}\n`, gone, timeoutMs, 50).catch(
        async (error: unknown) => {
          this.child.kill("SIGKILL");
          await exited;
          throw error;
        },
      );
    }
    await exited;
    return this.child.exitCode;
  }
}

/** Spawns `ferry <args>` with `env`, keeping its last output, and waits until it logs `started` (or exits: an error). */
async function spawnFerry(
  args: string[],
  env: NodeJS.ProcessEnv,
  started: string,
  timeoutMs: number,
): Promise<{ child: ChildProcess; log: { text: string } }> {
  const child = spawn(process.execPath, ["bin/ferry.js", ...args], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const log = { text: "" };
  const keep = (chunk: Buffer) => (log.text = (log.text + chunk.toString()).slice(-100_000));
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const what = `ferry ${args.slice(0, args[0] === "agent" ? 3 : 1).join(" ")}`;
  await waitUntil(
    () => `${what} did not start:\n${log.text}\n`,
    () => child.exitCode !== null || log.text.includes(started),
    timeoutMs,
    50,
  );
  if (child.exitCode !== null) throw new Error(`${what} exited before it started:\n${log.text}`);
  return { child, log };
}
