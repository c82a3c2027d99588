import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { permanent } from "../errors.js";

/** One run of a renderer binary over untrusted repository content. */
export interface ToolRun {
  /** What the run is called in messages, e.g. `kustomize build deploy/staging`. */
  label: string;
  /** The binary: a path, or a name looked up on PATH. */
  command: string;
  /** Arguments, passed as they are (no shell). */
  args: string[];
  /** Working directory, inside the extracted repository. */
  cwd: string;
  /** Longest the run may take before its whole process group is killed. */
  timeoutMs: number;
  /** Most bytes the run may write to stdout before its whole process group is killed. */
  maxOutputBytes: number;
  /** Variables added to the sandbox's environment for this run only (sops' `SOPS_AGE_KEY`). */
  env?: Record<string, string>;
}

/** Most stderr kept for the error message; the tool's first lines say what went wrong. */
const MAX_STDERR_BYTES = 64 * 1024;

/** Lines and characters of the tool's own message put on statuses and comments. */
const MESSAGE_LINES = 8;
const MESSAGE_CHARS = 1_000;

/** A port nothing listens on: every proxied request fails at once instead of reaching the network. */
const DEAD_PROXY = "http://127.0.0.1:9";

/**
 * Runs a renderer binary without a shell and returns its stdout. The process gets its own process
 * group, killed with SIGKILL on timeout, when stdout exceeds the cap, and as soon as the tool exits
 * (so nothing it started outlives it). Its environment inherits nothing but PATH: home, config,
 * cache and data dirs (Helm's too) point into an empty temp dir removed afterwards, every proxy
 * variable points at a dead port so any network attempt fails fast, and no token or kubeconfig is
 * visible. Every failure is a permanent FerryError: a tool that failed or hung on a commit will do
 * so again. A non-zero exit carries the tool's own message, trimmed: `<label> failed: <stderr>`.
 */
export async function runTool(run: ToolRun): Promise<string> {
  const home = await mkdtemp(path.join(tmpdir(), "ferry-tool-"));
  try {
    await mkdir(path.join(home, "tmp"));
    return await spawnTool(run, { ...sandboxEnv(home), ...run.env });
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/** The whole environment of a tool: PATH, and everything else pointing into `home` or nowhere. */
function sandboxEnv(home: string): NodeJS.ProcessEnv {
  const dir = (name: string) => path.join(home, name);
  return {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    LANG: "C",
    HOME: home,
    TMPDIR: dir("tmp"),
    XDG_CONFIG_HOME: dir("config"),
    XDG_CACHE_HOME: dir("cache"),
    XDG_DATA_HOME: dir("data"),
    HELM_CONFIG_HOME: dir("config/helm"),
    HELM_CACHE_HOME: dir("cache/helm"),
    HELM_DATA_HOME: dir("data/helm"),
    HELM_PLUGINS: dir("data/helm/plugins"),
    KUBECONFIG: dir("no-kubeconfig"),
    HTTP_PROXY: DEAD_PROXY,
    HTTPS_PROXY: DEAD_PROXY,
    ALL_PROXY: DEAD_PROXY,
    http_proxy: DEAD_PROXY,
    https_proxy: DEAD_PROXY,
    all_proxy: DEAD_PROXY,
    NO_PROXY: "",
    no_proxy: "",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    GIT_ALLOW_PROTOCOL: "none",
  };
}

/** Spawns the tool in its own process group and collects its output within the run's limits. */
function spawnTool(run: ToolRun, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(run.command, run.args, {
      cwd: run.cwd,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let stdoutBytes = 0;
    let stderrBytes = 0;
    let stopped: string | undefined;
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // the group is already gone
      }
    };
    const stop = (reason: string) => {
      stopped ??= reason;
      killGroup();
    };
    const timer = setTimeout(
      () => stop(`${run.label} did not finish within ${seconds(run.timeoutMs)} and was stopped`),
      run.timeoutMs,
    );

    child.stdout.on("data", (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > run.maxOutputBytes)
        stop(`${run.label} wrote more than ${bytes(run.maxOutputBytes)} of output and was stopped`);
      else stdout.push(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      if (stderrBytes < MAX_STDERR_BYTES) stderr.push(chunk);
      stderrBytes += chunk.length;
    });
    // Whatever the tool started dies with it, so no stray process keeps the pipes open.
    child.on("exit", killGroup);
    child.on("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why = error.code === "ENOENT" ? "not found; install it or point Ferry at it" : error.message;
      reject(permanent(`${run.label}: cannot run ${run.command}: ${why}`, { cause: error }));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (stopped !== undefined) return reject(permanent(stopped));
      if (code === 0) return resolve(Buffer.concat(stdout).toString("utf8"));
      const message = toolMessage(Buffer.concat(stderr).toString("utf8"));
      const how = code !== null ? `exited with code ${code}` : `was killed by ${signal ?? "a signal"}`;
      reject(permanent(`${run.label} failed: ${message || how}`));
    });
  });
}

/** Terminal colour and cursor sequences, which tools print even into a pipe. */
// eslint-disable-next-line no-control-regex
const ANSI_ESCAPES = /\x1b\[[0-9;]*[A-Za-z]/g;

/** The tool's own message, fit for a status or comment: no colours, no `Error: ` prefix, the first few lines. */
export function toolMessage(stderr: string): string {
  const lines = stderr
    .replace(ANSI_ESCAPES, "")
    .split("\n")
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== "");
  const shown = lines.slice(0, MESSAGE_LINES);
  if (shown[0] !== undefined) shown[0] = shown[0].replace(/^Error: /, "");
  let text = shown.join("\n");
  if (text.length > MESSAGE_CHARS) text = `${text.slice(0, MESSAGE_CHARS)}…`;
  else if (lines.length > shown.length) text += "\n…";
  return text;
}

/** `1.5 s` for 1500. */
function seconds(ms: number): string {
  return `${ms / 1000} s`;
}

/** `64 MiB`, or a count of bytes when not whole mebibytes. */
function bytes(n: number): string {
  return n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : `${n} bytes`;
}
