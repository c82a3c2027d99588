import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { writeScript } from "../../test/support/file-tree.js";
import { waitUntil } from "../../test/support/wait-until.js";
import { FerryError } from "../errors.js";
import { runTool, toolMessage, type ToolRun } from "./run-tool.js";

/** Expects a permanent FerryError and returns its message. */
async function failure(promise: Promise<unknown>): Promise<string> {
  let message = "";
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof FerryError, `expected a FerryError, got ${String(error)}`);
    assert.equal(error.kind, "permanent");
    message = error.message;
    return true;
  });
  return message;
}

/** True while a process with this pid runs (a zombie left for a non-reaping init does not). */
async function alive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  return stat !== "" && !/^\d+ \(.*\) [ZX]/.test(stat);
}

describe("runTool", () => {
  let work: string;
  let count = 0;

  /** Writes an executable shell script and returns a run of it with generous limits. */
  async function script(body: string, overrides: Partial<ToolRun> = {}): Promise<ToolRun> {
    const file = await writeScript(path.join(work, `tool-${++count}.sh`), body);
    return {
      label: "tool build x",
      command: file,
      args: [],
      cwd: work,
      timeoutMs: 10_000,
      maxOutputBytes: 1024 * 1024,
      ...overrides,
    };
  }

  before(async () => {
    work = await mkdtemp(path.join(tmpdir(), "ferry-run-tool-"));
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("returns stdout, runs in cwd with the arguments as given, without a shell", async () => {
    const run = await script('pwd; for a in "$@"; do echo "[$a]"; done', { args: ["a b", "$HOME", "*"] });
    assert.equal(await runTool(run), `${work}\n[a b]\n[$HOME]\n[*]\n`);
  });

  it("hands the tool no inherited variable but PATH: an empty home, dead proxies, no credentials", async () => {
    process.env.FERRY_TEST_SECRET_TOKEN = "s3cret";
    try {
      const env = Object.fromEntries(
        (await runTool(await script("env")))
          .trim()
          .split("\n")
          .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
      ) as Record<string, string>;
      assert.equal(env.FERRY_TEST_SECRET_TOKEN, undefined);
      assert.equal(env.PATH, process.env.PATH);
      assert.equal(env.HTTPS_PROXY, "http://127.0.0.1:9");
      assert.equal(env.http_proxy, "http://127.0.0.1:9");
      assert.equal(env.NO_PROXY, "");
      assert.match(env.HOME ?? "", /ferry-tool-/);
      assert.ok(env.HELM_CACHE_HOME?.startsWith(env.HOME ?? "?"));
      assert.ok(env.KUBECONFIG?.startsWith(env.HOME ?? "?"));
      const allowed = new Set(["PATH", "LANG", "HOME", "TMPDIR", "PWD", "SHLVL", "_"]);
      const extra = Object.keys(env).filter(
        (name) => !allowed.has(name) && !/^(XDG|HELM|GIT)_|_PROXY$|_proxy$|^KUBECONFIG$/.test(name),
      );
      assert.deepEqual(extra, []);
    } finally {
      delete process.env.FERRY_TEST_SECRET_TOKEN;
    }
  });

  it("reports a failure with the tool's own message, trimmed", async () => {
    const run = await script('echo "Error: accumulating resources: boom" >&2; echo "  detail" >&2; exit 3');
    assert.equal(await failure(runTool(run)), "tool build x failed: accumulating resources: boom\n  detail");
    assert.equal(await failure(runTool(await script("exit 4"))), "tool build x failed: exited with code 4");
  });

  it("kills a tool that hangs, and what it started, at the time limit", async () => {
    const pids = path.join(work, "pids");
    const run = await script(`sleep 300 & echo $! > ${pids}; sleep 300`, { timeoutMs: 300 });
    const started = Date.now();
    assert.equal(await failure(runTool(run)), "tool build x did not finish within 0.3 s and was stopped");
    assert.ok(Date.now() - started < 5_000);
    const child = Number((await readFile(pids, "utf8")).trim());
    await waitUntil("the tool's own child was not killed too", async () => !(await alive(child)), 1_000, 20);
  });

  it("kills a tool that writes more than the output cap", async () => {
    const run = await script("yes ferry", { maxOutputBytes: 64 * 1024 });
    assert.equal(await failure(runTool(run)), "tool build x wrote more than 65536 bytes of output and was stopped");
  });

  it("says when the binary is missing", async () => {
    const message = await failure(
      runTool({
        label: "helm template c",
        command: path.join(work, "no-such-helm"),
        args: [],
        cwd: work,
        timeoutMs: 1000,
        maxOutputBytes: 1000,
      }),
    );
    assert.match(message, /^helm template c: cannot run .*no-such-helm: not found/);
  });

  it("trims a long message to its first lines, without colours", () => {
    const long = Array.from({ length: 20 }, (_, i) => `line ${i}`).join("\n");
    assert.equal(toolMessage(`\x1b[31mError: bad\x1b[0m\n${long}`).split("\n").length, 9);
    assert.match(toolMessage("Error: bad"), /^bad$/);
    assert.equal(toolMessage("x".repeat(5000)).length, 1001);
  });
});
