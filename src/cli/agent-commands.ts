import { resolve } from "node:path";
import { Command, Option } from "commander";
import { agentAclArgs, agentKillArgs, aclLine, applyAgentAcl, newAgentSecret } from "../agent/agent-acl.js";
import { agentKeys } from "../agent/agent-keys.js";
import { forgeCredentialsIn } from "../agent/forge-credentials-in.js";
import { AGENT_CLUSTER_NAME, loadServerConfig } from "../config/server-config.js";
import { permanent } from "../errors.js";
import { createLogger } from "../logger.js";
import { openRedis, redisTargetFromEnv, type RedisTarget } from "../queue/redis-connection.js";

/** `ferry agent`'s options. */
interface AgentRunOptions {
  cluster: string;
  kubeconfig?: string;
  context?: string;
  port: string;
  heartbeatMs: string;
  claimMs: string;
}

/** `ferry agent-credentials`' options. */
interface CredentialsOptions {
  config?: string;
  apply?: boolean;
  json?: boolean;
}

const AGENT_DESCRIPTION = [
  "Run in an agent cluster (`agent: true` in the server config) and release it: take the cluster's work from its",
  "own queue in Redis (objects central workers rendered), apply it with the pod's ServiceAccount (or --kubeconfig",
  "and --context), wait for health, record the inventory and return the outcome. It opens only outbound",
  "connections, to Redis, and holds no forge credential: it refuses to start when one is in its environment.",
  "",
  "Redis: REDIS_URL (or REDIS_SENTINELS / REDIS_CLUSTER_NODES), with REDIS_USERNAME (default ferry-agent-<cluster>)",
  "and REDIS_PASSWORD, the secret `ferry agent-credentials <cluster>` printed. Serves /healthz and /readyz.",
].join("\n");

const CREDENTIALS_DESCRIPTION = [
  "Print a new secret for the agent of <cluster> and the Redis ACL rule of its user: on, only the SHA-256 of the",
  "secret, only its own keys ({ferry-agent:<cluster>}:*), no channels, only the commands an agent sends.",
  "Run it again to rotate: the rule resets the user, so the old secret no longer logs in, and CLIENT KILL USER",
  "ends connections already logged in. --apply runs both on the Redis of REDIS_URL (as a user that may); on the",
  "Redis Cluster of REDIS_CLUSTER_NODES it runs them on every node, since Redis keeps ACLs per node.",
].join("\n");

/** Adds `ferry agent` and `ferry agent-credentials` to the command line. */
export function addAgentCommands(program: Command): void {
  program
    .command("agent")
    .summary("Run the agent of one cluster Ferry cannot reach: release it from its own queue in Redis.")
    .description(AGENT_DESCRIPTION)
    .addOption(
      new Option("--cluster <name>", "the cluster this agent runs in").env("FERRY_AGENT_CLUSTER").makeOptionMandatory(),
    )
    .option("--kubeconfig <file>", "kubeconfig file, with --context (default: the pod's ServiceAccount)")
    .option("--context <name>", "kubeconfig context (default: the pod's ServiceAccount)")
    .addOption(new Option("-p, --port <port>", "HTTP port of /healthz and /readyz").env("PORT").default("3002"))
    .addOption(
      new Option("--heartbeat-ms <ms>", "how often the agent says it is alive (keep it under a third of agentTimeout)")
        .env("FERRY_AGENT_HEARTBEAT_MS")
        .default("10000"),
    )
    .addOption(
      new Option("--claim-ms <ms>", "how long a release held by an agent that died stays claimed before it runs again")
        .env("FERRY_CLAIM_MS")
        .default("30000"),
    )
    .action((opts: AgentRunOptions) => runAgent(opts));
  program
    .command("agent-credentials")
    .summary("Print a new secret and the Redis ACL rule for the agent of <cluster> (again to rotate).")
    .description(CREDENTIALS_DESCRIPTION)
    .argument("<cluster>", "the agent cluster, as the server config names it")
    .addOption(
      new Option("-c, --config <file>", "server config: check that it names <cluster> with agent: true").env(
        "FERRY_CONFIG",
      ),
    )
    .option("--apply", "run the rule and CLIENT KILL USER on the Redis of REDIS_URL")
    .option("--json", "print {user, acl, secret} as JSON")
    .action((cluster: string, opts: CredentialsOptions) => agentCredentials(cluster, opts));
}

/** Whole milliseconds from an option, or a usage error naming it. */
function milliseconds(name: string, text: string): number {
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms <= 0)
    throw permanent(`${name} must be a whole number of milliseconds, not "${text}"`);
  return ms;
}

async function runAgent(opts: AgentRunOptions): Promise<void> {
  const found = forgeCredentialsIn(process.env);
  if (found.length > 0)
    throw permanent(
      `an agent holds no forge credential or central secret; remove ${found.join(", ")} from its environment`,
    );
  if (!AGENT_CLUSTER_NAME.test(opts.cluster))
    throw permanent(`--cluster "${opts.cluster}": an agent cluster's name is lowercase letters, digits, '-' and '.'`);
  if (opts.kubeconfig !== undefined && opts.context === undefined) throw permanent("--kubeconfig needs --context");
  const redis = agentRedisTarget(opts.cluster, process.env);
  const heartbeatMs = milliseconds("--heartbeat-ms", opts.heartbeatMs);
  const claimMs = milliseconds("--claim-ms", opts.claimMs);
  const { agentKubeClient } = await import("../agent/agent-kube-client.js");
  const { startAgent } = await import("../agent/start-agent.js");
  const log = createLogger();
  const client = await agentKubeClient(
    {
      ...(opts.kubeconfig === undefined ? {} : { kubeconfig: resolve(opts.kubeconfig) }),
      ...(opts.context === undefined ? {} : { context: opts.context }),
    },
    opts.cluster,
  );
  const agent = await startAgent({
    cluster: opts.cluster,
    redis,
    client,
    log,
    port: Number(opts.port),
    heartbeatMs,
    claimMs,
  });
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "agent shutting down: finishing the running release");
    agent.close().then(
      () => {
        log.info("agent stopped");
        log.flush();
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, "agent shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

/** The agent's Redis: as the environment names it, logging in as `ferry-agent-<cluster>` unless told otherwise. */
export function agentRedisTarget(cluster: string, env: NodeJS.ProcessEnv): RedisTarget {
  const target = redisTargetFromEnv(env);
  if (!target)
    throw permanent("an agent needs REDIS_URL (or REDIS_SENTINELS / REDIS_CLUSTER_NODES): it has no Redis of its own");
  const urlUser = target.kind === "url" ? decodeURIComponent(new URL(target.url).username) : "";
  if (urlUser !== "" || target.auth?.username !== undefined) return target;
  return { ...target, auth: { ...target.auth, username: agentKeys(cluster).user } };
}

async function agentCredentials(cluster: string, opts: CredentialsOptions): Promise<void> {
  if (!AGENT_CLUSTER_NAME.test(cluster))
    throw permanent(`"${cluster}" cannot be an agent cluster: its name is lowercase letters, digits, '-' and '.'`);
  if (opts.config !== undefined) {
    const config = await loadServerConfig(resolve(opts.config));
    const registered = config.clusters.find((c) => c.name === cluster);
    if (!registered?.agent) throw permanent(`${opts.config} has no cluster "${cluster}" with agent: true`);
  }
  const keys = agentKeys(cluster);
  const secret = newAgentSecret();
  const acl = agentAclArgs(keys, secret);
  const kill = agentKillArgs(keys);
  let nodes = 0;
  if (opts.apply) {
    const target = redisTargetFromEnv(process.env);
    if (!target) throw permanent("--apply needs REDIS_URL (or REDIS_SENTINELS / REDIS_CLUSTER_NODES)");
    const redis = openRedis(target, { maxRetriesPerRequest: 1, retryStrategy: () => null });
    try {
      nodes = await applyAgentAcl(redis, keys, secret);
    } finally {
      redis.disconnect();
    }
  }
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify({ user: keys.user, acl: aclLine(acl), kill: `CLIENT ${kill.join(" ")}`, secret })}\n`,
    );
    return;
  }
  process.stdout.write(
    [
      `# Redis user of the agent of cluster ${cluster}${opts.apply ? ` (applied on ${nodes} ${nodes === 1 ? "node" : "nodes"})` : ""}: run on every Redis node.`,
      "# Redis keeps ACLs per node: on a Redis Cluster run both lines on every primary and replica, and on nodes",
      "# added later (or keep the user in the ACL file every node loads). The rule holds only the secret's SHA-256.",
      aclLine(acl),
      "# End the connections still logged in with an earlier secret:",
      `CLIENT ${kill.join(" ")}`,
      "# The agent's secret: REDIS_PASSWORD of `ferry agent` (keep it in a Kubernetes Secret; it is not shown again)",
      secret,
      "",
    ].join("\n"),
  );
}
