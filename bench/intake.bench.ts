/**
 * intake: what `ferry web` accepts and `ferry worker` holds in memory, each as a real process.
 *
 * - intake-throughput, intake-p50, intake-p99: signed GitHub webhooks (merged pull requests, 23 KB
 *   each, every one a new commit so every one queues a job) posted over loopback by a load
 *   generator in its own process, `CONCURRENCY` in flight, to `node bin/ferry.js web` with
 *   REDIS_URL pointing at a redis-server with append-only persistence; against a bare express
 *   endpoint that only answers 202, in the same run. Targets: Ferry ≥ 0.5× the bare endpoint's
 *   requests/s, p99 ≤ 25 ms. After the runs Redis is killed and restarted from its append-only
 *   file, and every accepted delivery must still be a job there (durably queued).
 * - worker-rss-5000: peak RSS (VmHWM, reset just before the job) of `node bin/ferry.js worker`
 *   releasing a commit of 5,000 ConfigMaps from the GitHub simulator to the bench control plane,
 *   against the same process's RSS before the job. Target ≤ 250 MB.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { once } from "node:events";
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { Queue } from "bullmq";
import { stringify } from "yaml";
import { DEPLOY_QUEUE } from "../src/queue/deploy-request.js";
import { Queues } from "../src/queue/queues.js";
import { connectRedis } from "../src/queue/redis-connection.js";
import { freePort, startRedisServer, type RedisServer } from "../src/redis/redis-server.js";
import { GitRepo } from "../test/support/git-repo.js";
import { GitHubSimulator } from "../test/support/github-simulator.js";
import { waitUntil } from "../test/support/wait-until.js";
import { benchCase, type BenchCase, type BenchContext } from "./bench-case.js";
import type { LoadOptions, LoadResult } from "./intake/load-generator.js";

const ROOT = new URL("..", import.meta.url).pathname;
const RUNS = 3;
/** Measured deliveries per run (several seconds each, so one busy moment does not decide a run), and the warm-up before them. */
const COUNT = 20_000;
const WARMUP = 1000;
/** Deliveries in flight: a forge delivering a burst of merges over a handful of connections. */
const CONCURRENCY = Number(process.env.INTAKE_CONCURRENCY ?? 8);
const OBJECTS = 5000;
const SECRET = "bench-intake-secret";

/** A child process whose output is kept (the last 64 KB) for error messages. */
interface Child {
  process: ChildProcess;
  output(): string;
  /** Resolves with the first output line matching `pattern`. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<string>;
  stop(): Promise<void>;
}

function start(args: string[], env: NodeJS.ProcessEnv): Child {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  const onData = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-65_536);
    for (const waiter of [...waiters]) {
      const line = output.split("\n").find((l) => waiter.pattern.test(l));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = once(child, "exit");
  return {
    process: child,
    output: () => output,
    waitFor: (pattern, timeoutMs) =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no output matching ${pattern} within ${timeoutMs} ms:\n${output}`)),
          timeoutMs,
        );
        const found = output.split("\n").find((l) => pattern.test(l));
        if (found !== undefined) {
          clearTimeout(timer);
          resolve(found);
          return;
        }
        waiters.push({
          pattern,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
        void exited.then(() => reject(new Error(`exited before printing ${pattern}:\n${output}`)));
      }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs the load generator once against `url`. */
async function load(url: string, runId: number): Promise<LoadResult> {
  const options: LoadOptions = {
    url,
    warmup: WARMUP,
    count: COUNT,
    concurrency: CONCURRENCY,
    timeoutMs: 120_000,
    secret: SECRET,
    runId,
  };
  const generator = start(["--import", "tsx", "bench/intake/load-generator.ts", JSON.stringify(options)], {});
  const line = await generator.waitFor(/^\{"statuses"/, 180_000);
  await generator.stop();
  return JSON.parse(line) as LoadResult;
}

const ready = (url: string) => () => fetch(`${url}/readyz`).then((r) => r.status === 200);

/** An RSA key for a GitHub App nobody contacts: Probot needs one to start. */
function appKey(): string {
  return generateKeyPairSync("rsa", { modulusLength: 2048 })
    .privateKey.export({ type: "pkcs1", format: "pem" })
    .toString();
}

/** Deploy jobs Redis holds, in every state. */
async function deployJobs(url: string): Promise<number> {
  const redis = connectRedis(url);
  const queue = new Queue(DEPLOY_QUEUE, { connection: redis });
  try {
    return Object.values(await queue.getJobCounts()).reduce((a, b) => a + b, 0);
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

/** The V8 options Ferry's image runs with (its Dockerfile's NODE_OPTIONS), so the processes measured run as deployed. */
async function imageNodeOptions(): Promise<string> {
  return /^\s*NODE_OPTIONS=(\S+)/m.exec(await readFile(join(ROOT, "Dockerfile"), "utf8"))?.[1] ?? "";
}

async function intake(context: BenchContext): Promise<BenchCase[]> {
  const dir = join(context.workDir, "intake");
  let redis: RedisServer = await startRedisServer({ dir: join(dir, "redis"), appendOnly: true });
  const port = await freePort();
  const ferry = start(["bin/ferry.js", "web", "--port", String(port)], {
    NODE_OPTIONS: await imageNodeOptions(),
    REDIS_URL: redis.url,
    APP_ID: "1",
    PRIVATE_KEY: appKey(),
    WEBHOOK_SECRET: SECRET,
    LOG_FORMAT: "json",
    LOG_LEVEL: "info",
  });
  const bare = start(["--import", "tsx", "bench/intake/bare-endpoint.ts"], {});
  const ferryUrl = `http://127.0.0.1:${port}`;
  try {
    await waitUntil("ferry web is not ready", ready(ferryUrl), 60_000);
    const barePort = (await bare.waitFor(/^listening \d+/, 60_000)).split(" ")[1];
    const bareUrl = `http://127.0.0.1:${barePort}`;
    const ferryRuns: LoadResult[] = [];
    const bareRuns: LoadResult[] = [];
    for (let i = 0; i < RUNS; i++) {
      // Alternate who goes first, so neither always meets a warmer (or busier) machine.
      if (i % 2 === 0) {
        ferryRuns.push(await load(ferryUrl, i));
        bareRuns.push(await load(bareUrl, 100 + i));
      } else {
        bareRuns.push(await load(bareUrl, 100 + i));
        ferryRuns.push(await load(ferryUrl, i));
      }
    }
    for (const [i, r] of ferryRuns.entries()) {
      if (r.queued !== COUNT)
        throw new Error(
          `ferry run ${i}: ${r.queued} of ${COUNT} deliveries queued; statuses ${JSON.stringify(r.statuses)}`,
        );
    }
    const accepted = RUNS * (COUNT + WARMUP);
    // Durably queued: Redis killed (as a crash would) and restarted from its append-only file still holds every job.
    const before = await deployJobs(redis.url);
    await redis.kill();
    redis = await startRedisServer({ dir: join(dir, "redis"), port: redis.port, appendOnly: true });
    const after = await deployJobs(redis.url);
    if (before !== accepted || after !== accepted)
      throw new Error(`accepted ${accepted} deliveries; Redis held ${before} jobs, ${after} after a restart`);
    console.log(
      `  ferry runs: ${JSON.stringify(ferryRuns)}\n  bare runs: ${JSON.stringify(bareRuns)}\n  ${after} of ${accepted} accepted deliveries are jobs after Redis was killed and restarted`,
    );
    return [
      benchCase(
        "intake-throughput",
        "requests/s",
        ferryRuns.map((r) => r.rps),
        "bare express endpoint answering 202",
        bareRuns.map((r) => r.rps),
      ),
      benchCase(
        "intake-p50",
        "ms",
        ferryRuns.map((r) => r.p50),
        "bare express endpoint answering 202 (p50)",
        bareRuns.map((r) => r.p50),
      ),
      benchCase(
        "intake-p99",
        "ms",
        ferryRuns.map((r) => r.p99),
        "bare express endpoint answering 202 (p99)",
        bareRuns.map((r) => r.p99),
      ),
    ];
  } finally {
    await Promise.all([ferry.stop(), bare.stop()]);
    await redis.stop();
  }
}

/** VmRSS or VmHWM of a process, in MB. */
async function memory(pid: number, field: "VmRSS" | "VmHWM"): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1]);
  if (!Number.isFinite(kb)) throw new Error(`no ${field} in /proc/${pid}/status`);
  return kb / 1024;
}

/** Writes the repository's 5,000 ConfigMaps, 100 to a file. */
async function writeObjects(git: GitRepo): Promise<void> {
  const files: Record<string, string> = {};
  for (let file = 0; file < OBJECTS / 100; file++) {
    files[`deploy/objects-${String(file).padStart(2, "0")}.yaml`] = Array.from({ length: 100 }, (_, i) => {
      const n = file * 100 + i;
      return stringify({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: `cm-${n}`, labels: { app: "bench", shard: String(file) } },
        data: { index: String(n), payload: "x".repeat(200) },
      });
    }).join("---\n");
  }
  await git.writeFiles(files);
}

async function workerRss(context: BenchContext): Promise<BenchCase[]> {
  const dir = join(context.workDir, "worker-rss");
  await mkdir(dir, { recursive: true });
  const redis = await startRedisServer({ dir: join(dir, "redis"), appendOnly: true });
  const sim = await GitHubSimulator.start();
  const git = await GitRepo.create("bench-rss");
  const fullName = "bench/rss";
  sim.addRepo(fullName, git);
  await writeObjects(git);
  const configFile = join(dir, "server.yml");
  await writeFile(
    configFile,
    stringify({
      clusters: [{ name: "bench", context: "ferry-test", kubeconfig: context.kubeconfig }],
      policy: [{ repositories: ["bench/*"], clusters: ["bench"], namespaces: ["*"] }],
    }),
  );
  const queueRedis = connectRedis(redis.url);
  const queues = new Queues(queueRedis);
  const peaks: number[] = [];
  const befores: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      await git.writeFiles({
        ".ferry.yml": stringify({
          version: 1,
          environments: [{ name: "bench", branch: "main", path: "deploy", cluster: "bench", namespace: `rss-${i}` }],
        }),
      });
      const sha = await git.commit(`release ${i}`);
      const port = await freePort();
      const worker = start(["bin/ferry.js", "worker", "--config", configFile, "--port", String(port)], {
        NODE_OPTIONS: await imageNodeOptions(),
        REDIS_URL: redis.url,
        APP_ID: String(sim.appId),
        PRIVATE_KEY: sim.privateKeyPem,
        WEBHOOK_SECRET: SECRET,
        GHE_HOST: sim.host,
        GHE_PROTOCOL: "http",
        LOG_FORMAT: "json",
      });
      try {
        await worker.waitFor(/"msg":"worker started"/, 60_000);
        await waitUntil("the worker is not ready", ready(`http://127.0.0.1:${port}`), 60_000);
        await new Promise((r) => setTimeout(r, 2000));
        const pid = worker.process.pid ?? 0;
        befores.push(await memory(pid, "VmRSS"));
        // Resets VmHWM to the current RSS, so it then holds the peak of the job alone.
        await writeFile(`/proc/${pid}/clear_refs`, "5");
        const jobId = await queues.enqueueDeploy({
          repo: { forge: "github", fullName, installationId: 1 },
          branch: "main",
          sha,
          actor: "bench",
          deliveryId: `rss-${i}`,
        });
        await waitUntil(
          `the deploy job ${jobId} did not finish`,
          () =>
            Promise.resolve(
              sim.statuses(fullName, sha).some((s) => s.context === "ferry/deploy/bench" && s.state !== "pending"),
            ),
          600_000,
        );
        const final = sim
          .statuses(fullName, sha)
          .filter((s) => s.context === "ferry/deploy/bench")
          .at(-1);
        if (final?.state !== "success" || !final.description?.startsWith(`deployed: +${OBJECTS} `))
          throw new Error(`release ${i} ended ${JSON.stringify(final)}\n${worker.output()}`);
        peaks.push(await memory(pid, "VmHWM"));
      } finally {
        await worker.stop();
      }
    }
    console.log(
      `  worker RSS before the job (MB): ${befores.map((b) => b.toFixed(1)).join(", ")}; peak during it: ${peaks.map((p) => p.toFixed(1)).join(", ")}`,
    );
    return [benchCase(`worker-rss-${OBJECTS}`, "MB", peaks, "the same worker process's RSS before the job", befores)];
  } finally {
    await queues.close();
    queueRedis.disconnect();
    await sim.close();
    await git.dispose();
    await redis.stop();
  }
}

/**
 * Measures intake throughput and latency against the bare endpoint, then the worker's peak RSS.
 * `INTAKE_ONLY=1` skips the worker's RSS (for iterating on intake; the results file then lacks that case).
 */
export async function run(context: BenchContext): Promise<BenchCase[]> {
  const cases = await intake(context);
  return process.env.INTAKE_ONLY === "1" ? cases : [...cases, ...(await workerRss(context))];
}
