/**
 * scale: Ferry on more than one Redis, and on many agents (`SCALE_PARTS=redis-cluster,agents`, the
 * default, or either alone; the runner keeps the other part's cases in scale.json).
 *
 * - agents-<N> and the idle agents' cost: see agent-cases.ts (AGENTS_N, default 1,000).
 * - redis-cluster-scaleout: jobs per second through the fleet path's queues on a Redis Cluster of 3
 *   masters against one of 1 master (every slot on it), same run, same queue layout (6 groups), the
 *   workers in this process. ROLLOUTS rollouts of CLUSTERS clusters each start at once; each rollout
 *   job stores its rollout, queues its clusters' release jobs as its children and parks in
 *   waiting-children; each release job moves its cluster in the rollout's state (Ferry's MOVE script)
 *   and ends; the rollout job runs again and finishes. That is Ferry's own Redis work of a fleet
 *   rollout (RolloutStore, Queues, startWorkers), without forge or API server calls, which would
 *   bound it first. Medians of RUNS runs, the two clusters in turn. Beside it: the share of keys and
 *   of commands the busiest master took on 3 masters, the busiest master's CPU on 3 masters against
 *   the one master's, and where the CPU went (this process against the Redis nodes), which says
 *   what bounded the run.
 */
import { WaitingChildrenError } from "bullmq";
import { Redis } from "ioredis";
import type { DeclaredEnvironment } from "../src/config/ferry-config.js";
import { createLogger } from "../src/logger.js";
import { queueLayout, openRedis, type RedisClient, type RedisTarget } from "../src/queue/redis-connection.js";
import { Queues } from "../src/queue/queues.js";
import { RolloutStore } from "../src/rollout/rollout-store.js";
import { startWorkers } from "../src/worker/start-workers.js";
import { startTestRedisCluster, type TestRedisCluster } from "../test/support/redis.js";
import { waitUntil } from "../test/support/wait-until.js";
import { agentCases } from "./agent-cases.js";
import { benchCase, type BenchCase, type BenchContext } from "./bench-case.js";

const RUNS = Number(process.env.SCALE_RUNS ?? 3);
const ROLLOUTS = Number(process.env.SCALE_ROLLOUTS ?? 60);
const CLUSTERS = Number(process.env.SCALE_CLUSTERS ?? 50);
const CONCURRENCY = Number(process.env.SCALE_CONCURRENCY ?? 32);
const GROUPS = 6;

/** What one run measured. */
interface RunResult {
  jobsPerSecond: number;
  /** CPU seconds of this process (clients and workers) per wall second. */
  clientCpu: number;
  /** CPU seconds of each Redis node per wall second. */
  redisCpu: number[];
  /** Commands each node ran. */
  commands: number[];
  /** Keys each node holds at the end (finished jobs and rollout states). */
  keys: number[];
}

async function nodeStats(cluster: TestRedisCluster): Promise<Array<{ cpu: number; commands: number; keys: number }>> {
  return Promise.all(
    cluster.ports.map(async (port) => {
      const node = new Redis({ host: "127.0.0.1", port });
      try {
        const info = await node.info();
        const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(info)?.[1] ?? 0);
        return {
          cpu: field("used_cpu_sys") + field("used_cpu_user"),
          commands: field("total_commands_processed"),
          keys: await node.dbsize(),
        };
      } finally {
        node.disconnect();
      }
    }),
  );
}

/** One run: ROLLOUTS rollouts of CLUSTERS clusters through queues and workers on `cluster`. */
async function runOnce(cluster: TestRedisCluster, runIndex: number): Promise<RunResult> {
  const target: RedisTarget = cluster.target(GROUPS);
  const layout = queueLayout(target);
  const connections: RedisClient[] = [];
  const connect = () => {
    const c = openRedis(target);
    connections.push(c);
    return c;
  };
  const redis = connect();
  const store = new RolloutStore(redis);
  const queues = new Queues(redis, layout);
  const finished = new Set<string>();
  const workers = startWorkers({
    connection: connect,
    layout,
    concurrency: CONCURRENCY,
    log: createLogger({ level: "silent" }),
    deploy: () => Promise.resolve([]),
    plan: () => Promise.resolve([]),
    command: () => Promise.resolve(undefined),
    reconcile: () => Promise.reject(new Error("no reconciles in this benchmark")),
    rollout: async (job, token) => {
      const id = job.data.rolloutId;
      const [counts] = await store.counts(id, 1);
      if ((counts?.pending ?? 0) > 0) {
        const clusters = Array.from({ length: CLUSTERS }, (_, i) => `edge-${i}`);
        await store.setClusters(
          id,
          clusters.map((c) => ({ cluster: c, wave: 0, state: "releasing", startedAt: Date.now() })),
        );
        await queues.addReleases(
          job,
          clusters.map((c, index) => ({ rolloutId: id, cluster: c, wave: 0, index })),
        );
      }
      if (await job.moveToWaitingChildren(token)) throw new WaitingChildrenError();
      finished.add(id);
      return "succeeded";
    },
    release: async (data) => {
      await store.finishCluster(data.rolloutId, data.cluster, data.wave, {
        kind: "released",
        sha: "0".repeat(40),
        result: { created: [], configured: [], pruned: [], unchanged: 1 },
      });
      return "released";
    },
  });
  try {
    const ids = Array.from({ length: ROLLOUTS }, (_, r) => `bench-${runIndex}-${r}-${Date.now()}`);
    for (const id of ids) {
      const clusters = Array.from({ length: CLUSTERS }, (_, i) => `edge-${i}`);
      await store.create({
        rollout: {
          id,
          repo: { forge: "github", fullName: `acme/shop-${id}` },
          environment: "production",
          branch: "main",
          sha: "0".repeat(40),
          actor: "bench",
          delivery: id,
          single: false,
          waves: [{ index: 0, name: "all", clusters, maxParallel: CLUSTERS, failureBudget: 0, approval: false }],
          state: "running",
          wave: 0,
          createdAt: Date.now(),
        },
        declared: {} as DeclaredEnvironment,
        renders: new Map(),
        renderKeys: new Map(),
      });
    }
    const before = await nodeStats(cluster);
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    await Promise.all(ids.map((id) => queues.startRollout(id)));
    await waitUntil(
      () => `${finished.size} of ${ROLLOUTS} rollouts finished`,
      () => finished.size === ROLLOUTS,
      600_000,
      20,
    );
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const afterStats = await nodeStats(cluster);
    // Each rollout: its job runs twice (start, then after its children), and one release job per cluster.
    const jobs = ROLLOUTS * (CLUSTERS + 2);
    return {
      jobsPerSecond: jobs / seconds,
      clientCpu: (cpu.user + cpu.system) / 1e6 / seconds,
      redisCpu: afterStats.map((s, i) => (s.cpu - (before[i]?.cpu ?? 0)) / seconds),
      commands: afterStats.map((s, i) => s.commands - (before[i]?.commands ?? 0)),
      keys: afterStats.map((s) => s.keys),
    };
  } finally {
    await workers.close();
    await queues.close();
    for (const c of connections) c.disconnect();
  }
}

const share = (values: number[]) => {
  const total = values.reduce((a, b) => a + b, 0);
  return values.map((v) => Math.round((v / total) * 1000) / 10);
};

/** The parts of the benchmark `SCALE_PARTS` may name (comma-separated; default all). */
const PARTS = ["redis-cluster", "agents"] as const;

/** The parts asked for, or an error naming the unknown one. */
function parts(text = PARTS.join(",")): Set<(typeof PARTS)[number]> {
  const asked = text.split(",").filter(Boolean);
  const unknown = asked.filter((p) => !(PARTS as readonly string[]).includes(p));
  if (unknown.length > 0 || asked.length === 0)
    throw new Error(`SCALE_PARTS="${text}": name some of ${PARTS.join(", ")}`);
  return new Set(asked as Array<(typeof PARTS)[number]>);
}

/** Runs the parts `SCALE_PARTS` names (default all); the runner merges them into scale.json by case name. */
export async function run(context: BenchContext): Promise<BenchCase[]> {
  const wanted = parts(process.env.SCALE_PARTS);
  return [
    ...(wanted.has("redis-cluster") ? await redisClusterCases() : []),
    ...(wanted.has("agents") ? await agentCases(context) : []),
  ];
}

/** The redis-cluster-scaleout cases; the Redis Clusters are started here and stopped at the end. */
async function redisClusterCases(): Promise<BenchCase[]> {
  const three = await startTestRedisCluster(3);
  const one = await startTestRedisCluster(1);
  try {
    const onThree: RunResult[] = [];
    const onOne: RunResult[] = [];
    for (let r = 0; r < RUNS; r++) {
      onThree.push(await runOnce(three, r));
      onOne.push(await runOnce(one, r));
    }
    const last = onThree[onThree.length - 1] as RunResult;
    const commandShares = share(last.commands);
    const keyShares = share(last.keys);
    console.log(
      JSON.stringify(
        {
          rollouts: ROLLOUTS,
          clustersEach: CLUSTERS,
          jobsPerSecond: {
            threeMasters: onThree.map((r) => r.jobsPerSecond),
            oneMaster: onOne.map((r) => r.jobsPerSecond),
          },
          clientCpuCores: { threeMasters: onThree.map((r) => r.clientCpu), oneMaster: onOne.map((r) => r.clientCpu) },
          redisCpuCoresPerNode: {
            threeMasters: onThree.map((r) => r.redisCpu),
            oneMaster: onOne.map((r) => r.redisCpu),
          },
          lastRunOnThree: { commands: last.commands, commandShares, keys: last.keys, keyShares },
        },
        null,
        2,
      ),
    );
    const round = (n: number) => Math.round(n * 100) / 100;
    return [
      benchCase(
        "redis-cluster-scaleout",
        "jobs/s",
        onThree.map((r) => r.jobsPerSecond),
        "the same rollouts on a 1-master Redis Cluster",
        onOne.map((r) => r.jobsPerSecond),
      ),
      {
        name: "redis-cluster-scaleout-busiest-master-commands",
        value: Math.max(...commandShares),
        unit: "% of commands",
        baseline: "an even spread over 3 masters",
        baseline_value: 33.3,
        ratio: round(Math.max(...commandShares) / 33.3),
      },
      {
        name: "redis-cluster-scaleout-busiest-master-keys",
        value: Math.max(...keyShares),
        unit: "% of keys",
        baseline: "an even spread over 3 masters",
        baseline_value: 33.3,
        ratio: round(Math.max(...keyShares) / 33.3),
      },
      benchCase(
        "redis-cluster-scaleout-busiest-master-cpu",
        "cores",
        onThree.map((r) => Math.max(...r.redisCpu)),
        "the 1-master cluster's CPU in the same runs",
        onOne.map((r) => Math.max(...r.redisCpu)),
      ),
      benchCase(
        "redis-cluster-scaleout-client-cpu",
        "cores",
        onThree.map((r) => r.clientCpu),
        "the busiest Redis master's CPU in the same runs",
        onThree.map((r) => Math.max(...r.redisCpu)),
      ),
    ];
  } finally {
    await three.stop();
    await one.stop();
  }
}
