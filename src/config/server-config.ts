import { readFile } from "node:fs/promises";
import { z } from "zod";
import { serverFreezeWindowSchema } from "../freeze/freeze-window.js";
import { sopsConfigSchema } from "../sops/sops-keys.js";
import { permanent } from "../errors.js";
import { clusterSelectorObjectSchema } from "./cluster-selector.js";
import { labelsSchema } from "./label-syntax.js";
import { byteSizeSchema } from "./byte-size.js";
import { durationMs, durationSchema } from "./duration.js";
import { DEFAULT_RECONCILE_INTERVAL } from "./ferry-config.js";
import { MAX_SERVER_CONFIG_BYTES, parseYamlConfig } from "./parse-yaml-config.js";

/** How long audit records are kept when the server config does not say. */
export const DEFAULT_AUDIT_RETENTION = "400d";

/** The shortest audit retention the server config accepts. */
const MIN_AUDIT_RETENTION_MS = 86_400_000;

/** What an agent cluster may be named: a DNS label or subdomain (it names a Redis user and key pattern). */
export const AGENT_CLUSTER_NAME = /^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/;

/**
 * The JSON one worker's watch caches may hold by default. A worker's RSS grows about 2.7 times the
 * JSON its caches hold (watch-cache-rss: 89 MB of JSON, 238 MB of RSS): at the limit it stays
 * inside the chart's 1Gi memory limit.
 */
const DEFAULT_WATCH_CACHE_LIMIT = "256Mi";

/** How long an agent may go unseen before its clusters' releases are reported unreachable, by default. */
export const DEFAULT_AGENT_TIMEOUT = "1m";

/** A Kubernetes API endpoint Ferry may write to, registered by the operator. */
export const clusterSchema = z
  .strictObject({
    name: z.string().min(1),
    /** Context in the kubeconfig; omit with `inCluster: true`. */
    context: z.string().min(1).optional(),
    /** Kubeconfig file; defaults to $KUBECONFIG or ~/.kube/config. */
    kubeconfig: z.string().min(1).optional(),
    inCluster: z.boolean().default(false),
    /**
     * Reached through its own `ferry agent`, which runs in the cluster and takes its work from Redis:
     * Ferry holds no credentials for it (no `context`, no `inCluster`).
     */
    agent: z.boolean().default(false),
    /** Kubernetes-style labels (`region: eu`), read by cluster selectors and `${cluster.labels.<key>}` templates. */
    labels: labelsSchema.default({}),
  })
  .superRefine((c, ctx) => {
    if (c.agent) {
      // The name becomes a Redis ACL key pattern and user name: no glob characters, no spaces.
      if (!AGENT_CLUSTER_NAME.test(c.name))
        ctx.addIssue({
          code: "custom",
          path: ["name"],
          message: "an agent cluster's name must be lowercase letters, digits, '-' and '.' (at most 63)",
        });
      if (c.context !== undefined || c.kubeconfig !== undefined || c.inCluster)
        ctx.addIssue({
          code: "custom",
          path: ["agent"],
          message: "an agent cluster is reached through its agent: give no context, kubeconfig or inCluster",
        });
    } else if (c.inCluster === (c.context !== undefined)) {
      ctx.addIssue({ code: "custom", message: "give either a kubeconfig context or inCluster: true" });
    }
  });

/**
 * Which repositories may deploy to which clusters, namespaces and cluster-scoped kinds. A rule covers
 * a cluster that `clusters` names (or `*`) or that `clusterSelector` selects; it needs one of them.
 */
export const policyRuleSchema = z
  .strictObject({
    /** Repository full names; `*` matches any run of characters (`acme/*`: every repository of acme). */
    repositories: z.array(z.string().min(1)).min(1),
    /** Cluster names, or `*` for every cluster. */
    clusters: z.array(z.string().min(1)).min(1).optional(),
    /** Clusters by labels (and names), as in `.ferry.yml`'s `clusters:`. */
    clusterSelector: clusterSelectorObjectSchema.optional(),
    /** Namespaces, with `*` wildcards. */
    namespaces: z.array(z.string().min(1)).min(1),
    /** Cluster-scoped kinds the repositories may own, e.g. Namespace, CustomResourceDefinition. */
    clusterScopedKinds: z.array(z.string().min(1)).default([]),
  })
  .superRefine((rule, ctx) => {
    if (rule.clusters === undefined && rule.clusterSelector === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["clusters"],
        message: "give clusters: [names or *], clusterSelector: {...}, or both",
      });
    }
  });

/** The operator's configuration (`ferry serve --config FILE`). */
export const serverConfigSchema = z
  .strictObject({
    /** URL Ferry is reached at, for links in statuses and comments. */
    publicUrl: z.url().optional(),
    clusters: z.array(clusterSchema).default([]),
    /** GitLab: per-project webhook secrets, as the names of environment variables holding them (others use GITLAB_WEBHOOK_SECRET). */
    gitlab: z
      .strictObject({ projectSecrets: z.record(z.string(), z.string().min(1)).default({}) })
      .default({ projectSecrets: {} }),
    /** Repositories (globs) whose pull requests from forks are planned; none by default, as fork code is untrusted. */
    forkPlans: z.array(z.string().min(1)).default([]),
    policy: z.array(policyRuleSchema).default([]),
    /**
     * Continuous reconciliation: `defaultInterval` for environments that give none, and `minInterval`,
     * the floor: a shorter `reconcile.interval` in `.ferry.yml` is raised to it (and the worker logs so).
     * `watchCacheLimit`: the JSON the watch caches of one worker process may hold together (`0`: keep
     * no cache; watches still tell drift); a cache that would pass it is dropped, and its collection
     * is read from the API server.
     */
    reconcile: z
      .strictObject({
        minInterval: durationSchema("24h").default("1m"),
        defaultInterval: durationSchema("24h").default(DEFAULT_RECONCILE_INTERVAL),
        watchCacheLimit: byteSizeSchema("64Gi").default(DEFAULT_WATCH_CACHE_LIMIT),
      })
      .default({
        minInterval: "1m",
        defaultInterval: DEFAULT_RECONCILE_INTERVAL,
        watchCacheLimit: DEFAULT_WATCH_CACHE_LIMIT,
      }),
    /**
     * How long the agent of an agent cluster may go without a heartbeat before a release waiting on
     * it ends `unreachable` (counted against its wave's failure budget) instead of waiting on.
     */
    agentTimeout: durationSchema("1h").default(DEFAULT_AGENT_TIMEOUT),
    /** Windows when releases of the named environments (of the repositories named, or all) do not start. */
    freeze: z.array(serverFreezeWindowSchema).default([]),
    /** The audit trail: how long its records are kept (`400d` by default; at least `1d`, at most `3650d`). */
    audit: z
      .strictObject({
        // A bare number (`retention: 400`) is read as text, so it is refused for its missing unit.
        retention: z
          .preprocess(
            (value) => (typeof value === "number" ? String(value) : value),
            durationSchema("3650d").refine(
              (text) => durationMs(text) === 0 || durationMs(text) >= MIN_AUDIT_RETENTION_MS,
              { message: "must be at least 1d: audit records are evidence, kept for days, not hours" },
            ),
          )
          .default(DEFAULT_AUDIT_RETENTION),
      })
      .default({ retention: DEFAULT_AUDIT_RETENTION }),
    /** SOPS: the age keys that decrypt repositories' encrypted files, each granted to repositories (and environments). */
    sops: sopsConfigSchema,
  })
  .superRefine((config, ctx) => {
    const names = new Set<string>();
    config.clusters.forEach((cluster, i) => {
      if (names.has(cluster.name))
        ctx.addIssue({ code: "custom", path: ["clusters", i, "name"], message: `duplicate cluster "${cluster.name}"` });
      names.add(cluster.name);
    });
    config.policy.forEach((rule, i) => {
      rule.clusters?.forEach((cluster, j) => {
        if (cluster !== "*" && !names.has(cluster)) {
          ctx.addIssue({
            code: "custom",
            path: ["policy", i, "clusters", j],
            message: `no cluster named "${cluster}"`,
          });
        }
      });
      rule.clusterSelector?.names?.forEach((cluster, j) => {
        if (!names.has(cluster)) {
          ctx.addIssue({
            code: "custom",
            path: ["policy", i, "clusterSelector", "names", j],
            message: `no cluster named "${cluster}"`,
          });
        }
      });
    });
  });

/** A registered cluster. */
export type ClusterConfig = z.output<typeof clusterSchema>;
/** One policy rule. */
export type PolicyRule = z.output<typeof policyRuleSchema>;
/** The validated server configuration. */
export type ServerConfig = z.output<typeof serverConfigSchema>;

/** Parses server config text; throws a permanent FerryError listing every problem with line and column. */
export function parseServerConfig(text: string, file: string): ServerConfig {
  return parseYamlConfig(text, file, serverConfigSchema, MAX_SERVER_CONFIG_BYTES);
}

/** Reads and validates the server config file; with no file, an empty config (no clusters, no policy). */
export async function loadServerConfig(file: string | undefined): Promise<ServerConfig> {
  if (file === undefined) return serverConfigSchema.parse({});
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw permanent(`cannot read server config ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return parseServerConfig(text, file);
}
