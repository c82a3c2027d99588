import { resolve } from "node:path";
import { Command, CommanderError, Option } from "commander";
import { loadServerConfig } from "../config/server-config.js";
import { addAgentCommands } from "./agent-commands.js";
import { startFerry, type Roles } from "../ferry.js";
import { createLogger } from "../logger.js";
import { redisTargetFromEnv } from "../queue/redis-connection.js";
import type { AuditExportOptions, AuditVerifyOptions, HistoryOptions } from "./audit-commands.js";
import type { LocalPlanOptions } from "./local-plan.js";
import type { SetupClusterOptions } from "./setup-cluster.js";

/** Options shared by the roles that run a server or a worker. */
interface RunOptions {
  config?: string;
  port: string;
  concurrency: string;
  claimMs: string;
}

/** What `ferry plan --help` says above its options: what the command does, then its exit codes (as `flux diff`'s). */
const PLAN_DESCRIPTION = [
  "Show what applying a local directory of manifests would change in a cluster, without a forge.",
  "",
  "Renders --dir as a release renders it (Kustomize, Helm or plain YAML/JSON, inside its git work tree), " +
    "reads the live objects, validates each new or changed object with a server-side dry-run and prints the plan: " +
    "each object to create, update or delete, with a diff (Secret values hidden). It writes nothing to the cluster; " +
    "credentials come from the kubeconfig (--kubeconfig, --context). Read-only credentials work: objects they may " +
    "not dry-run are shown, marked not dry-run.",
  "",
  "It plans as an environment: --repo and --env name the one the server releases (its inventory says what " +
    "prune would delete and which objects it owns; an object another environment owns is an error). Without them " +
    "it plans as repository local, environment local. When --dir holds .ferry.yml (a repository's root), --env " +
    "picks the environment whose path, namespace, rendering and prune are planned.",
  "",
  "Exit codes:",
  "  0  no changes: the cluster matches the directory",
  "  1  changes: the plan lists them",
  "  2  error: bad options, a failed render, a policy violation, an object the",
  "     server refuses or another environment owns, an unreachable cluster",
  "",
  "The codes are those of `flux diff`, so a CI step can tell a change from a failure.",
].join("\n");

/** What `ferry setup-cluster --help` says above its options. */
const SETUP_DESCRIPTION = [
  "Prepare a cluster for Ferry: create the namespace ferry-validation, where plans and releases dry-run objects " +
    "whose own namespace does not exist yet. Plans write nothing, so they never create it; the Helm chart creates it " +
    "in Ferry's own cluster, and this command in any other (run it once per cluster, with credentials that may " +
    "create namespaces). Safe to run again.",
  "",
  "Exit codes: 0 ready, 2 error.",
].join("\n");

/** Builds the `ferry` command line; usage errors throw (see {@link main}) instead of exiting. */
export function buildCli(): Command {
  const program = new Command("ferry")
    .description(
      "Ferry carries merged commits to Kubernetes clusters: a GitHub App and GitLab webhook receiver that plans on every change and deploys on merge.",
    )
    .showHelpAfterError()
    // Set before the commands are added, which inherit it: commander would exit 1, which to `ferry plan` means "changes".
    .exitOverride();
  const role = (name: string, roles: Roles, summary: string, port = "3000") =>
    program
      .command(name)
      .summary(summary)
      .description(
        `${summary}\n\nRedis: REDIS_URL; or REDIS_SENTINELS (host:port,...) with REDIS_SENTINEL_NAME; or REDIS_CLUSTER_NODES (host:port,...);\n` +
          "REDIS_USERNAME, REDIS_PASSWORD, REDIS_SENTINEL_PASSWORD and REDIS_TLS=true add credentials and TLS. With none of them,\n" +
          "an embedded redis-server (from PATH) with data under .ferry/redis.\n" +
          "GitHub App: APP_ID, PRIVATE_KEY or PRIVATE_KEY_PATH, WEBHOOK_SECRET (GHE_HOST/GHE_PROTOCOL for Enterprise Server).\n" +
          "GitLab: GITLAB_URL, GITLAB_TOKEN, GITLAB_WEBHOOK_SECRET. Queue dashboard at /admin/queues: FERRY_ADMIN_USER and FERRY_ADMIN_PASSWORD.\n" +
          "Links in statuses and comments: FERRY_PUBLIC_URL (or publicUrl in the server config), else this process's own address.\n" +
          "Every role serves /healthz, /readyz and /metrics on its port.",
      )
      .addOption(new Option("-c, --config <file>", "server config: clusters and policy (YAML)").env("FERRY_CONFIG"))
      .addOption(
        new Option("-p, --port <port>", "HTTP port for webhooks, health and metrics").env("PORT").default(port),
      )
      .addOption(new Option("--concurrency <n>", "jobs one worker runs at once").env("FERRY_CONCURRENCY").default("4"))
      .addOption(
        new Option(
          "--claim-ms <ms>",
          "how long a dead worker's jobs and release locks stay claimed before another worker takes them over",
        )
          .env("FERRY_CLAIM_MS")
          .default("30000"),
      )
      .action((opts: RunOptions) => run(roles, opts));
  role(
    "serve",
    { web: true, worker: true },
    "Run the web role and the worker role in one process (the default for small installs).",
  );
  role(
    "web",
    { web: true, worker: false },
    "Run only the web role: receive webhooks, verify them, queue jobs, answer /healthz and /readyz.",
  );
  role(
    "worker",
    { web: false, worker: true },
    "Run only the worker role: render, plan, apply and report; scale it apart from the web role.",
    "3001",
  );
  program
    .command("plan")
    .summary(
      "Show what applying a local directory of manifests would change in a cluster (exit 0 no changes, 1 changes, 2 error).",
    )
    .description(PLAN_DESCRIPTION)
    .requiredOption("--dir <path>", "directory of YAML/JSON manifests, a kustomization or a Helm chart")
    .addOption(
      new Option(
        "--render <mode>",
        "how to render --dir: auto picks kustomize, then helm, then plain by the files it holds (default: auto)",
      ).choices(["auto", "plain", "kustomize", "helm"]),
    )
    .option("--repo <owner/name>", "plan as this repository, as Ferry names it (with --env)")
    .option("--env <name>", "plan as this environment of --repo; with .ferry.yml in --dir, its settings")
    .option("--release-name <name>", "Helm release name (default: the environment's name)")
    .option("--context <name>", "kubeconfig context (default: the current one)")
    .option("--namespace <ns>", "namespace for objects that name none (default: default)")
    .option("--kubeconfig <file>", "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    .action(async (opts: LocalPlanOptions) => {
      // Loaded here, not at the top: `ferry plan` reads kubeconfigs with @kubernetes/client-node, which the server roles never load.
      const { localPlan } = await import("./local-plan.js");
      process.exitCode = await localPlan(opts);
    });
  program
    .command("setup-cluster")
    .summary("Prepare a cluster for Ferry: create the namespace ferry-validation (once per cluster; safe to repeat).")
    .description(SETUP_DESCRIPTION)
    .option("--context <names...>", "kubeconfig contexts to prepare (default: the current one)")
    .option("--kubeconfig <file>", "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    .action(async (opts: SetupClusterOptions) => {
      const { setupCluster } = await import("./setup-cluster.js");
      process.exitCode = await setupCluster(opts);
    });
  addAuditCommands(program);
  addAgentCommands(program);
  return program;
}

/** What `ferry audit --help` says: where the records are, and what each subcommand does. */
const AUDIT_DESCRIPTION = [
  "The audit trail: every release, rollback, rollout, drift heal, approval, abort and refused command, as Ferry",
  "recorded it in Redis, each record chained to the one before it in its environment by its hash",
  "(see docs/audit.md). Redis: REDIS_URL, or REDIS_SENTINELS / REDIS_CLUSTER_NODES, as for the server roles.",
].join("\n");

/** `ferry audit verify|export` and `ferry history`, which read the audit trail in Redis. */
function addAuditCommands(program: Command): void {
  const forge = () => new Option("--forge <forge>", "only this forge's repositories").choices(["github", "gitlab"]);
  const audit = program
    .command("audit")
    .summary("Check or export the audit trail (verify exits 0 intact, 1 broken, 2 error).")
    .description(AUDIT_DESCRIPTION);
  audit
    .command("verify")
    .summary("Check every environment's hash chain, from its anchor to its head: exit 0 intact, 1 broken, 2 error.")
    .option("--repo <name>", "only this repository")
    .option("--env <name>", "only this environment")
    .addOption(forge())
    .option("--file <jsonl>", "check an export (JSON Lines, - for stdin) instead of Redis")
    .action(async (opts: AuditVerifyOptions) => {
      const { auditVerify } = await import("./audit-commands.js");
      process.exitCode = await auditVerify(opts);
    });
  audit
    .command("export")
    .summary("Print the records written between --since and --until as JSON Lines, for a compliance archive.")
    .option("--since <time>", "from this time: 2026-01-31, 2026-01-31T12:00:00Z, or a time ago (30d)")
    .option("--until <time>", "up to this time (default: now)")
    .option("--repo <name>", "only this repository")
    .option("--env <name>", "only this environment")
    .addOption(forge())
    .action(async (opts: AuditExportOptions) => {
      const { auditExport } = await import("./audit-commands.js");
      process.exitCode = await auditExport(opts);
    });
  program
    .command("history")
    .summary("Show a repository's newest audit records: releases, rollbacks, heals, approvals, aborts, refusals.")
    .requiredOption("--repo <name>", "the repository (owner/name, or a GitLab project's path)")
    .option("--env <name>", "only this environment")
    .addOption(forge())
    .option("--limit <n>", "how many records", "20")
    .option("--json", "one record per line, as JSON")
    .action(async (opts: HistoryOptions) => {
      const { history } = await import("./audit-commands.js");
      process.exitCode = await history(opts);
    });
}

async function run(roles: Roles, opts: RunOptions): Promise<void> {
  const log = createLogger();
  const config = await loadServerConfig(opts.config ? resolve(opts.config) : undefined);
  const ferry = await startFerry({
    roles,
    config,
    log,
    port: Number(opts.port),
    redis: redisTargetFromEnv(process.env),
    dataDir: resolve(process.env.FERRY_DATA_DIR ?? ".ferry"),
    env: process.env,
    concurrency: Number(opts.concurrency),
    claimMs: Number(opts.claimMs),
  });
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down: finishing running jobs");
    ferry.close().then(
      () => {
        log.info("stopped");
        log.flush();
        process.exit(0);
      },
      (error: unknown) => {
        // Each failed step was logged with its reason (jobs abandoned while Redis was away, say).
        log.error({ err: error }, "shutdown failed: exiting 1");
        log.flush();
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

/** Runs the CLI with `argv`; errors (config errors list every problem) and usage errors exit 2, help exits 0. */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (error) {
    // Commander has already printed what was wrong (or the help asked for).
    if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
    console.error(`ferry: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  }
}
