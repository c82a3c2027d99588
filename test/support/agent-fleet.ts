import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { KubeConfig } from "@kubernetes/client-node";
import { FerryHarness } from "./ferry-harness.js";
import { FerryProcess } from "./ferry-process.js";
import { testFleetContexts, testKubeConfigFor, testKubeConfigPath } from "./kube.js";
import { waitUntil } from "./wait-until.js";

const ROOT = new URL("../..", import.meta.url).pathname;

/** What an {@link AgentFleet} runs with. */
export interface AgentFleetOptions {
  /** How long an agent may go unseen (`agentTimeout`), in seconds. */
  agentTimeoutS: number;
  /** More of the server config (`sops`, `reconcile`, ...), beside the clusters and policy. */
  serverConfig?: Record<string, unknown>;
}

/**
 * Central Ferry with one cluster it reaches directly (`hub`, label ring=direct, the run's first API
 * server) and agent clusters (ring=edge), each a `ferry agent` process on an API server of its own
 * that central Ferry holds no credentials for, connecting to Redis as its own ACL user, made as an
 * operator makes it (`ferry agent-credentials --apply`). Needs FERRY_TEST_CLUSTERS ≥ agents + 1.
 */
export class AgentFleet {
  /** Each cluster's admin kubeconfig (`hub` and every agent's), for the test to look at (or change) what Ferry did. */
  readonly kcs = new Map<string, KubeConfig>();
  /** Each agent's Redis secret, as `ferry agent-credentials` printed it. */
  readonly secrets = new Map<string, string>();
  /** The running agents, by cluster. */
  readonly agents = new Map<string, FerryProcess>();

  private constructor(
    /** Central Ferry. */
    readonly h: FerryHarness,
    private readonly names: string[],
    private readonly contexts: string[],
    /** Where the agents write a heap snapshot when sent SIGUSR2 ({@link heapSnapshot}). */
    private readonly snapshots: string,
  ) {}

  /** Starts central Ferry, makes each agent's Redis user and starts its agent. */
  static async start(names: string[], options: AgentFleetOptions): Promise<AgentFleet> {
    const contexts = testFleetContexts();
    assert.ok(
      contexts.length > names.length,
      `the agent suite needs ${names.length + 1} clusters (FERRY_TEST_CLUSTERS=${names.length + 1}); the run has ${contexts.length}`,
    );
    const h = await FerryHarness.start(
      "github",
      {},
      {
        serverConfig: {
          agentTimeout: `${options.agentTimeoutS}s`,
          clusters: [
            { name: "hub", context: contexts[0], kubeconfig: testKubeConfigPath(), labels: { ring: "direct" } },
            ...names.map((name) => ({ name, agent: true, labels: { ring: "edge" } })),
          ],
          policy: [{ repositories: ["acme/*"], clusters: ["*"], namespaces: ["e2e-*"], clusterScopedKinds: [] }],
          ...options.serverConfig,
        },
      },
    );
    const fleet = new AgentFleet(h, names, contexts, await mkdtemp(join(tmpdir(), "ferry-agent-heap-")));
    try {
      fleet.kcs.set("hub", testKubeConfigFor(contexts[0] ?? ""));
      names.forEach((name, i) => fleet.kcs.set(name, testKubeConfigFor(contexts[i + 1] ?? "")));
      for (const cluster of names) {
        const { stdout } = await promisify(execFile)(
          process.execPath,
          ["bin/ferry.js", "agent-credentials", cluster, "--config", h.configFile, "--apply", "--json"],
          { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...fleet.redisEnv() } },
        );
        fleet.secrets.set(cluster, (JSON.parse(stdout) as { secret: string }).secret);
      }
      await Promise.all(names.map((cluster) => fleet.startAgent(cluster)));
    } catch (error) {
      await fleet.close();
      throw error;
    }
    return fleet;
  }

  /** How agents and `ferry agent-credentials` find Redis: one server's URL, or a Redis Cluster's nodes. */
  redisEnv(): Record<string, string> {
    const target = this.h.redisTarget;
    return target.kind === "cluster"
      ? { REDIS_CLUSTER_NODES: target.nodes.map((n) => `${n.host}:${n.port}`).join(",") }
      : { REDIS_URL: this.h.redisUrl };
  }

  /** Starts `cluster`'s agent (again): heartbeat every second, claims lapsing after 3 s. */
  async startAgent(cluster: string): Promise<FerryProcess> {
    const agent = await FerryProcess.startAgent(
      cluster,
      [
        "--kubeconfig",
        testKubeConfigPath(),
        "--context",
        this.contexts[this.names.indexOf(cluster) + 1] ?? "",
        "--heartbeat-ms",
        "1000",
        "--claim-ms",
        "3000",
      ],
      {
        ...this.redisEnv(),
        REDIS_PASSWORD: this.secrets.get(cluster) ?? "",
        NODE_OPTIONS: `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${this.snapshots}`,
      },
    );
    this.agents.set(cluster, agent);
    return agent;
  }

  /** Everything `cluster`'s agent holds in memory now: a V8 heap snapshot of its process, as text. */
  async heapSnapshot(cluster: string): Promise<string> {
    const agent = this.agents.get(cluster);
    assert.ok(agent, `no agent runs for ${cluster}`);
    const mine = async () =>
      (await readdir(this.snapshots)).filter((f) => f.endsWith(".heapsnapshot") && f.includes(`.${agent.pid}.`));
    const before = new Set(await mine());
    process.kill(agent.pid, "SIGUSR2");
    let file = "";
    let size = -1;
    // Written when the new file stops growing.
    await waitUntil(
      `${cluster}'s agent wrote no heap snapshot`,
      async () => {
        file = (await mine()).find((f) => !before.has(f)) ?? "";
        if (file === "") return false;
        const now = (await stat(join(this.snapshots, file))).size;
        const done = now > 0 && now === size;
        size = now;
        return done;
      },
      60_000,
      500,
    );
    const text = await readFile(join(this.snapshots, file), "utf8");
    await rm(join(this.snapshots, file));
    return text;
  }

  /** Stops every agent, then central Ferry. */
  async close(): Promise<void> {
    for (const agent of this.agents.values()) await agent.stop();
    await this.h.close();
    await rm(this.snapshots, { recursive: true, force: true });
  }
}
