import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { buildCli } from "./main.js";

const run = promisify(execFile);
const ROOT = new URL("../..", import.meta.url).pathname;

/** Runs `ferry` as a user would, with no kubeconfig in reach; returns its exit code and output. */
async function ferry(...args: string[]): Promise<{ code: number; out: string }> {
  const env = { ...process.env, KUBECONFIG: "/nonexistent/kubeconfig", REDIS_URL: "" };
  try {
    const { stdout, stderr } = await run(process.execPath, [join(ROOT, "bin/ferry.js"), ...args], { cwd: ROOT, env });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

describe("ferry plan", () => {
  it("--help says what it does and what each exit code means", () => {
    const plan = buildCli().commands.find((c) => c.name() === "plan");
    assert.ok(plan);
    const help = plan.helpInformation();
    assert.match(help, /server-side dry-run/);
    assert.match(help, /writes nothing/);
    assert.match(help, /Exit codes:\n +0 +no changes/);
    assert.match(help, /\n +1 +changes/);
    assert.match(help, /\n +2 +error/);
  });

  it("exits 2 on a usage error, as on any other error: 1 means the plan has changes", async () => {
    const missing = await ferry("plan");
    assert.equal(missing.code, 2, missing.out);
    assert.match(missing.out, /required option '--dir <path>' not specified/);
    const badChoice = await ferry("plan", "--dir", ".", "--render", "bogus");
    assert.equal(badChoice.code, 2, badChoice.out);
    const help = await ferry("plan", "--help");
    assert.equal(help.code, 0, help.out);
    assert.match(help.out, /Exit codes:/);
  });
});

describe("ferry audit and ferry history", () => {
  it("need the Redis Ferry uses, and say so", async () => {
    const verify = await ferry("audit", "verify");
    assert.equal(verify.code, 2, verify.out);
    assert.match(
      verify.out,
      /ferry: set REDIS_URL \(or REDIS_SENTINELS, REDIS_CLUSTER_NODES\) to the Redis Ferry uses/,
    );
    const history = await ferry("history");
    assert.equal(history.code, 2, history.out);
    assert.match(history.out, /required option '--repo <name>' not specified/);
  });

  it("refuse a time they cannot read before connecting", async () => {
    const exported = await ferry("audit", "export", "--since", "yesterday");
    assert.equal(exported.code, 2, exported.out);
    assert.match(exported.out, /--since must be a date/);
  });
});
