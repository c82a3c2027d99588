/**
 * The agent cases of `npm run bench -- scale`: a rollout to clusters reached through `ferry agent`,
 * against the same rollout through central workers, in the same run, plus what idle agents cost Redis.
 *
 * - agents-<N> (AGENTS_N, default 1,000, the size; 20 for a quick check): N agent clusters, each with an
 *   agent of its own (in this process, each with its own Redis ACL user, connections and API client,
 *   on one of the run's 10 API servers), each releasing one ConfigMap into a namespace of its own
 *   (`${cluster.name}`), one wave; value = webhook to final status (median of AGENTS_RUNS, default 3);
 *   baseline = the same rollout to N clusters reached directly (kubeconfig contexts on the same API
 *   servers), alternating with it. Target ratio ≤ 1.5.
 * - agents-<N>-idle-redis-cpu: Redis CPU (user + sys, % of one core) over 10 s with the N agents
 *   connected and idle, against 10 s with none (before they started).
 * - agents-<N>-idle-redis-memory and agents-<N>-idle-redis-connections: Redis used_memory and connected
 *   clients with the N agents idle, against the same before they started (printed per agent too).
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { agentAclArgs, newAgentSecret } from "../src/agent/agent-acl.js";
import { agentKeys } from "../src/agent/agent-keys.js";
import { startAgent, type RunningAgent } from "../src/agent/start-agent.js";
import { KubeClient } from "../src/kube/kube-client.js";
import { readKubeconfigContext } from "../src/kube/kubeconfig.js";
import { createLogger } from "../src/logger.js";
import { configMapYaml, FerryHarness } from "../test/support/ferry-harness.js";
import { benchCase, type BenchCase, type BenchContext } from "./bench-case.js";

const N = Number(process.env.AGENTS_N ?? 1000);
const RUNS = Number(process.env.AGENTS_RUNS ?? 3);
const CONCURRENCY = 32;
const CONTEXT = "ferry/deploy/production";

/** Redis's INFO fields, as numbers. */
async function info(redis: Redis): Promise<Record<string, number>> {
  const text = await redis.info();
  return Object.fromEntries(
    [...text.matchAll(/^(\w+):([\d.]+)\r?$/gm)].map(([, key, value]) => [key ?? "", Number(value)]),
  );
}

/** Redis CPU over `ms`, as a percentage of one core. */
async function redisCpu(redis: Redis, ms: number): Promise<number> {
  const before = await info(redis);
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = await info(redis);
  const used = (i: Record<string, number>) => (i.used_cpu_user ?? 0) + (i.used_cpu_sys ?? 0);
  return ((used(after) - used(before)) / (ms / 1000)) * 100;
}

/** Merges a ConfigMap and returns the milliseconds from delivering the webhook to the final status. */
async function timedMerge(h: FerryHarness, repo: Awaited<ReturnType<FerryHarness["createRepo"]>>, v: string) {
  const merge = await h.merge(repo, { "deploy/cm.yaml": configMapYaml("cm", { v }) });
  const start = performance.now();
  await h.forge.deliver(h.url, merge.delivery, randomUUID());
  const statuses = await h.finalStatus(repo, merge.sha, CONTEXT, 600_000);
  const took = performance.now() - start;
  if (statuses.at(-1)?.state !== "success") throw new Error(`the release failed: ${JSON.stringify(statuses.at(-1))}`);
  return took;
}

/** Runs the agent cases on the run's API servers: agents-<N> and what idle agents cost Redis. */
export async function agentCases(context: BenchContext): Promise<BenchCase[]> {
  process.env.FERRY_TEST_KUBECONFIG = context.kubeconfig;
  const server = (i: number) => context.contexts[i % context.contexts.length] ?? "";
  const clusters = [
    ...Array.from({ length: N }, (_, i) => ({ name: `a-${i}`, agent: true, labels: { via: "agent" } })),
    ...Array.from({ length: N }, (_, i) => ({
      name: `d-${i}`,
      context: server(i),
      kubeconfig: context.kubeconfig,
      labels: { via: "direct" },
    })),
  ];
  const h = await FerryHarness.start(
    "github",
    {},
    {
      logLevel: "warn",
      concurrency: CONCURRENCY,
      serverConfig: {
        agentTimeout: "2m",
        clusters,
        policy: [{ repositories: ["acme/*"], clusters: ["*"], namespaces: ["e2e-*"] }],
      },
    },
  );
  const admin = new Redis(h.redisUrl);
  const agents: RunningAgent[] = [];
  try {
    const idleCpuNone = await redisCpu(admin, 10_000);
    const memoryBefore = (await info(admin)).used_memory ?? 0;
    const clientsBefore = (await info(admin)).connected_clients ?? 0;
    const log = createLogger({ level: "warn" });
    for (let i = 0; i < N; i++) {
      const keys = agentKeys(`a-${i}`);
      const secret = newAgentSecret();
      await admin.call("ACL", ...agentAclArgs(keys, secret));
      const found = await readKubeconfigContext({ file: context.kubeconfig, context: server(i), what: keys.cluster });
      if (found.kind !== "static") throw new Error("the bench's kubeconfig has a plugin user");
      agents.push(
        await startAgent({
          cluster: keys.cluster,
          redis: { kind: "url", url: h.redisUrl, auth: { username: keys.user, password: secret } },
          client: KubeClient.fromConnection(found.connection),
          log,
          port: 0,
          heartbeatMs: 10_000,
          claimMs: 30_000,
        }),
      );
    }
    // Idle: every agent connected, nothing queued.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const idle = await info(admin);
    const perAgentMemory = ((idle.used_memory ?? 0) - memoryBefore) / N;
    const perAgentConnections = ((idle.connected_clients ?? 0) - clientsBefore) / N;
    const idleCpuAgents = await redisCpu(admin, 10_000);
    console.log(
      `  idle: ${perAgentConnections} Redis connections and ${Math.round(perAgentMemory)} B of Redis memory per agent; ` +
        `Redis CPU ${idleCpuAgents.toFixed(2)} % of a core with ${N} agents, ${idleCpuNone.toFixed(2)} % with none`,
    );

    const through = (via: string) =>
      h.createRepo({
        environments: () => [
          {
            name: "production",
            branch: "main",
            path: "deploy",
            render: "plain",
            namespace: `e2e-${via}-${randomUUID().slice(0, 6)}-\${cluster.name}`,
            clusters: { matchLabels: { via } },
            wait: false,
          },
        ],
      });
    const viaAgents: number[] = [];
    const direct: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      direct.push(await timedMerge(h, await through("direct"), String(r)));
      viaAgents.push(await timedMerge(h, await through("agent"), String(r)));
    }
    console.log(
      `  agents-${N}: ${viaAgents.map(Math.round).join(", ")} ms; direct ${direct.map(Math.round).join(", ")} ms`,
    );
    return [
      benchCase(`agents-${N}`, "ms", viaAgents, `the same rollout to ${N} directly reached clusters`, direct),
      benchCase(`agents-${N}-idle-redis-cpu`, "% of a core", [idleCpuAgents], "Redis with no agent", [idleCpuNone]),
      benchCase(`agents-${N}-idle-redis-memory`, "B", [idle.used_memory ?? 0], "Redis before the agents started", [
        memoryBefore,
      ]),
      benchCase(
        `agents-${N}-idle-redis-connections`,
        "connections",
        [idle.connected_clients ?? 0],
        "before the agents",
        [clientsBefore],
      ),
    ];
  } finally {
    for (const agent of agents) await agent.close();
    admin.disconnect();
    await h.close();
  }
}
