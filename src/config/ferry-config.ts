import { z } from "zod";
import { freezeWindowSchema } from "../freeze/freeze-window.js";
import { afterProblems } from "./after-chains.js";
import { clusterSelectorSchema } from "./cluster-selector.js";
import { expandTemplates } from "./cluster-templates.js";
import { durationMs, durationSchema } from "./duration.js";
import { parseYamlConfig } from "./parse-yaml-config.js";
import { rolloutSchema } from "./rollout.js";

/** Milliseconds in a duration string (`1m30s` → 90000). */
export { durationMs } from "./duration.js";

/** The file a repository keeps its environments in. */
export const FERRY_CONFIG_FILE = ".ferry.yml";

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** What a namespace must look like, as a config error says it. */
const DNS_LABEL_RULE = "must be a DNS label (lower-case letters, digits, -)";

/** True when `text` is a DNS label of at most 63 characters, as a namespace must be. */
export function isDnsLabel(text: string): boolean {
  return text.length <= 63 && dnsLabel.test(text);
}

/** True when `path` is relative and stays inside its root: no leading /, no `..`, no backslashes. */
export function isRelativeInside(path: string): boolean {
  return !path.startsWith("/") && !path.includes("\\") && !path.split("/").includes("..");
}

/**
 * A string that may hold cluster templates (`${cluster.name}`, `${cluster.labels.<key>}`). Any other
 * `${...}` is refused; `check` sees the text with each template replaced by `x`, so mistakes that do
 * not depend on the cluster are caught before any release.
 */
function templated(schema: z.ZodString, check: (text: string) => string | undefined) {
  return schema.superRefine((text, ctx) => {
    const { text: sample, problems } = expandTemplates(text, () => "x");
    for (const message of problems) ctx.addIssue({ code: "custom", message });
    const problem = problems.length === 0 ? check(sample) : undefined;
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
  });
}

/** A path inside the repository: relative, no `..`, no backslashes; may hold cluster templates. */
const repoPath = templated(z.string().min(1), (p) =>
  isRelativeInside(p) ? undefined : "must be a relative path inside the repository (no leading /, no ..)",
);

/** A namespace: a DNS label, once its cluster templates are filled in. */
const namespace = templated(z.string(), (ns) =>
  !dnsLabel.test(ns) ? DNS_LABEL_RULE : ns.length > 63 ? "must be at most 63 characters" : undefined,
);

/** How an environment's directory becomes objects; `auto` picks Kustomize, then Helm, then plain YAML by the files it holds. */
export const renderModeSchema = z.enum(["auto", "plain", "kustomize", "helm"]);

/** How an environment's directory becomes objects. */
export type RenderMode = z.output<typeof renderModeSchema>;

/** A values file of a chart: relative to the chart's directory, no `..`, no backslashes; may hold cluster templates. */
const valuesFile = templated(z.string().min(1), (p) =>
  isRelativeInside(p) ? undefined : "must be a relative path inside the chart's directory (no leading /, no ..)",
);

/** Inline Helm values; each string in them may hold cluster templates, and a bad one is reported where it stands. */
const helmValues = z.record(z.string(), z.unknown()).superRefine((values, ctx) => {
  const visit = (value: unknown, path: (string | number)[]): void => {
    if (typeof value === "string") {
      for (const message of expandTemplates(value, () => "x").problems) ctx.addIssue({ code: "custom", path, message });
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => visit(item, [...path, i]));
    } else if (typeof value === "object" && value !== null) {
      for (const [key, item] of Object.entries(value)) visit(item, [...path, key]);
    }
  };
  visit(values, []);
});

/** Helm options of an environment whose path holds a chart. */
export const helmOptionsSchema = z.strictObject({
  /** Release name given to `helm template`; default: the environment's name. */
  releaseName: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a DNS label (lower-case letters, digits, -)")
    .max(53)
    .optional(),
  /** Values files, in order (later ones win), relative to the chart's directory. */
  valuesFiles: z.array(valuesFile).optional(),
  /** Values given inline; they win over every values file. */
  values: helmValues.optional(),
  /** What to do with Helm hooks other than tests: refuse the render (default) or leave them out. */
  hooks: z.enum(["refuse", "skip"]).optional(),
});

/** Helm options of an environment. */
export type HelmOptions = z.output<typeof helmOptionsSchema>;

/** A duration a release may wait, up to an hour: a release holds its environment's lock while it waits. */
const duration = durationSchema("1h");

/** How long a release waits for its workloads by default. */
export const DEFAULT_WAIT = "5m";

/** How long a release waits for its objects to be current (`true` or `{}`: the default), or `false` to report success once applied. */
export const waitSchema = z.union([z.boolean(), z.strictObject({ timeout: duration.optional() })], {
  error: "must be false, true or { timeout: <duration> }",
});

/** What a release that does not become healthy does: roll back to the last successful release, or leave the cluster as applied. */
export const onFailureSchema = z.enum(["none", "rollback"]);

/**
 * What a plan and a release do with an object the API server refuses to dry-run because an admission
 * webhook on its kind declares side effects (`sideEffects: Some` or `Unknown`): `fail` (the default)
 * the plan and the release, naming the webhook; or `skip` its dry-run, saying so in the plan, and apply
 * it without one (the webhook still judges the real apply).
 */
export const unsupportedDryRunSchema = z.enum(["fail", "skip"]);

/**
 * What prune does with a Namespace Ferry applied and Git no longer has, when it still holds objects
 * this environment does not own (deleting a Namespace deletes everything in it): `safe` (the default)
 * refuses, naming a few of them; `cascade` deletes it all the same.
 */
export const pruneNamespacesSchema = z.enum(["safe", "cascade"]);

/** How an environment's objects are validated before anything is applied. */
export const validationSchema = z.strictObject({
  /** Objects whose dry-run a webhook without dry-run support refuses: `fail` (default) or `skip`. */
  unsupportedDryRun: unsupportedDryRunSchema.optional(),
});

/** What continuous reconciliation does with drift: report it (the default), heal it, or not look. */
export const driftModeSchema = z.enum(["report", "heal", "ignore"]);

/** What a reconcile does with drift. */
export type DriftMode = z.output<typeof driftModeSchema>;

/** How often a reconcile runs when neither `.ferry.yml` nor the server config says. */
export const DEFAULT_RECONCILE_INTERVAL = "10m";

/**
 * Continuous reconciliation of an environment: how often each of its clusters is checked (up to a
 * day; the server config may raise it to its floor), what drift does, and whether the environment's
 * objects are watched so that a change is reconciled within seconds (`watch`, which needs drift
 * detection on).
 */
export const reconcileSchema = z
  .strictObject({
    interval: durationSchema("24h").optional(),
    drift: driftModeSchema.optional(),
    watch: z.boolean().optional(),
  })
  .superRefine((reconcile, ctx) => {
    if (reconcile.watch === true && reconcile.drift === "ignore")
      ctx.addIssue({
        code: "custom",
        path: ["watch"],
        message: "reconcile.watch looks for drift, which drift: ignore turns off: drop one of them",
      });
  });

/**
 * How the forge's deployment records show the environment (GitHub's deployments and Environments
 * panel, GitLab's Operate → Environments): where it is reached, whether end users reach it, and
 * whether it goes away (`transient` is GitHub's flag alone: GitLab environments have none).
 */
export const deploymentSchema = z.strictObject({
  /** The environment's address (GitHub's `environment_url`, GitLab's `external_url`): http or https. */
  url: z
    .string()
    .regex(/^https?:\/\/[^\s/]+/, "must be an http:// or https:// URL")
    .max(2048)
    .optional(),
  /** End users reach it: GitHub's `production_environment`, GitLab's `production` tier (default false). */
  production: z.boolean().optional(),
  /** It goes away at some point (a review app): GitHub's `transient_environment` (default false). */
  transient: z.boolean().optional(),
});

/** How the forge's deployment records show an environment. */
export type DeploymentOptions = z.output<typeof deploymentSchema>;

/**
 * One deploy target of a repository, as declared: one cluster (`cluster:`) or many (`clusters:`, a
 * selector, released in the waves of `rollout:`). `path`, `namespace` and Helm values may use
 * `${cluster.name}` and `${cluster.labels.<key>}`, filled in for each cluster.
 */
export const environmentSchema = z
  .strictObject({
    name: z.string().regex(dnsLabel, "must be a DNS label (lower-case letters, digits, -)").max(63),
    branch: z.string().min(1),
    /** Directory of the manifests (or chart), relative to the repository root; may use cluster templates. */
    path: repoPath,
    /** The one cluster this environment is released to; or give `clusters`. */
    cluster: z.string().min(1).optional(),
    /** The registered clusters this environment is released to; or give `cluster`. */
    clusters: clusterSelectorSchema.optional(),
    /** Namespace for objects that name none; a DNS label once cluster templates are filled in. */
    namespace,
    prune: z.boolean().default(true),
    /** Whether prune may delete a Namespace that holds objects this environment does not own; absent means `safe` (refuse). */
    pruneNamespaces: pruneNamespacesSchema.optional(),
    /** Another environment of the same branch that must have released a commit before this one does. */
    after: z.string().optional(),
    /** How `path` is rendered; absent means `auto`. */
    render: renderModeSchema.optional(),
    helm: helmOptionsSchema.optional(),
    /** How long a release waits for its workloads to be up; absent means `{ timeout: 5m }`. */
    wait: waitSchema.optional(),
    /** What a release that does not become healthy does; absent means `none`. */
    onFailure: onFailureSchema.optional(),
    /** How objects are validated; absent means `{ unsupportedDryRun: fail }`. */
    validation: validationSchema.optional(),
    /** The waves a release of `clusters` goes in; absent: every cluster at once. */
    rollout: rolloutSchema.optional(),
    /** Continuous reconciliation; absent means every 10m (or the server's default), reporting drift. */
    reconcile: reconcileSchema.optional(),
    /** How the forge's deployment records show the environment; absent: no URL, neither production nor transient. */
    deployment: deploymentSchema.optional(),
  })
  .superRefine((env, ctx) => {
    if (env.cluster === undefined && env.clusters === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["cluster"],
        message: "give either cluster: <name> or clusters: <selector>",
      });
    } else if (env.cluster !== undefined && env.clusters !== undefined) {
      ctx.addIssue({ code: "custom", path: ["clusters"], message: "give either cluster: or clusters:, not both" });
    }
    if (env.rollout !== undefined && env.clusters === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["rollout"],
        message: "rollout needs clusters: (one cluster is released at once)",
      });
    }
    if (env.helm !== undefined && env.render !== undefined && env.render !== "auto" && env.render !== "helm") {
      ctx.addIssue({
        code: "custom",
        path: ["helm"],
        message: `helm options need render: helm or auto, not ${env.render}`,
      });
    }
    if (env.pruneNamespaces !== undefined && !env.prune) {
      ctx.addIssue({
        code: "custom",
        path: ["pruneNamespaces"],
        message: "pruneNamespaces says how prune deletes Namespaces, and prune is false: drop one of them",
      });
    }
    if (env.onFailure === "rollback" && env.wait === false) {
      ctx.addIssue({
        code: "custom",
        path: ["onFailure"],
        message: "rollback needs a release that waits for health: drop wait: false",
      });
    }
  });

/** `.ferry.yml`, version 1. */
export const ferryConfigSchema = z
  .strictObject({
    version: z.literal(1),
    environments: z.array(environmentSchema).min(1),
    /** Windows when releases of the named environments do not start. */
    freeze: z.array(freezeWindowSchema).optional(),
  })
  .superRefine((config, ctx) => {
    const declared = new Set(config.environments.map((e) => e.name));
    config.freeze?.forEach((window, i) =>
      window.environments.forEach((name, j) => {
        if (!declared.has(name))
          ctx.addIssue({
            code: "custom",
            path: ["freeze", i, "environments", j],
            message: `no environment "${name}" is declared`,
          });
      }),
    );
    const names = new Set<string>();
    config.environments.forEach((env, i) => {
      if (names.has(env.name)) {
        ctx.addIssue({
          code: "custom",
          path: ["environments", i, "name"],
          message: `duplicate environment "${env.name}"`,
        });
      }
      names.add(env.name);
    });
    for (const { index, message } of afterProblems(config.environments)) {
      ctx.addIssue({ code: "custom", path: ["environments", index, "after"], message });
    }
  });

/** One entry of `.ferry.yml` as declared: one cluster or a selector of many, with templates not yet filled in. */
export type DeclaredEnvironment = z.output<typeof environmentSchema>;

/**
 * A deploy target resolved for one cluster: a directory of manifests, its branch, cluster and default
 * namespace, templates filled in (see `environmentFor`). What render, plan and release work with.
 */
export type Environment = Omit<DeclaredEnvironment, "cluster" | "clusters" | "rollout"> & { cluster: string };

/** A repository's validated `.ferry.yml`. */
export type FerryConfig = z.output<typeof ferryConfigSchema>;

/** Parses and validates `.ferry.yml` text; throws a permanent FerryError listing every problem with line and column. */
export function parseFerryConfig(text: string, file = FERRY_CONFIG_FILE): FerryConfig {
  return parseYamlConfig(text, file, ferryConfigSchema);
}

/** How long a release of `env` waits for its objects to be current, in milliseconds; undefined when it does not wait (`wait: false`). */
export function waitTimeoutMs(env: Pick<Environment, "wait">): number | undefined {
  if (env.wait === false) return undefined;
  return durationMs((typeof env.wait === "object" ? env.wait.timeout : undefined) ?? DEFAULT_WAIT);
}

/** What `env` does with objects a webhook without dry-run support keeps from being dry-run; `fail` unless it says otherwise. */
export function unsupportedDryRun(env: Pick<Environment, "validation">): z.output<typeof unsupportedDryRunSchema> {
  return env.validation?.unsupportedDryRun ?? "fail";
}

/** What prune does with a Namespace that holds objects the environment does not own; `safe` (refuse) unless it says otherwise. */
export function pruneNamespaces(env: Pick<Environment, "pruneNamespaces">): z.output<typeof pruneNamespacesSchema> {
  return env.pruneNamespaces ?? "safe";
}

/** Whether `env`'s objects are watched (`reconcile.watch`, default off). */
export function watched(env: Pick<Environment, "reconcile">): boolean {
  return env.reconcile?.watch === true;
}

/** What drift does in an environment (`reconcile.drift`, default `report`). */
export function driftMode(env: Pick<Environment, "reconcile">): DriftMode {
  return env.reconcile?.drift ?? "report";
}
