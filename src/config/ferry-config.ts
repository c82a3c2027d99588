import { z } from "zod";
import { parseYamlConfig } from "./parse-yaml-config.js";

/** The file a repository keeps its environments in. */
export const FERRY_CONFIG_FILE = ".ferry.yml";

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A path inside the repository: relative, no `..`, no backslashes. */
const repoPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith("/") && !p.includes("\\") && !p.split("/").includes(".."), {
    message: "must be a relative path inside the repository (no leading /, no ..)",
  });

/** How an environment's directory becomes objects; `auto` picks Kustomize, then Helm, then plain YAML by the files it holds. */
export const renderModeSchema = z.enum(["auto", "plain", "kustomize", "helm"]);

/** How an environment's directory becomes objects. */
export type RenderMode = z.output<typeof renderModeSchema>;

/** A values file of a chart: relative to the chart's directory, no `..`, no backslashes. */
const valuesFile = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith("/") && !p.includes("\\") && !p.split("/").includes(".."), {
    message: "must be a relative path inside the chart's directory (no leading /, no ..)",
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
  values: z.record(z.string(), z.unknown()).optional(),
  /** What to do with Helm hooks other than tests: refuse the render (default) or leave them out. */
  hooks: z.enum(["refuse", "skip"]).optional(),
});

/** Helm options of an environment. */
export type HelmOptions = z.output<typeof helmOptionsSchema>;

/** The longest wait `.ferry.yml` may ask for: a release holds its environment's lock while it waits. */
const MAX_WAIT_MS = 3_600_000;

/** Units a duration may use, in milliseconds. */
const DURATION_UNITS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000 };

/** A duration as people write it: `30s`, `5m`, `1h`, `1m30s`. */
const duration = z.string().superRefine((text, ctx) => {
  if (!/^(?=\d)(\d+h)?(\d+m)?(\d+s)?$/.test(text)) ctx.addIssue({ code: "custom", message: "must be a duration such as 30s, 5m or 1h30m" });
  else if (durationMs(text) === 0 || durationMs(text) > MAX_WAIT_MS) ctx.addIssue({ code: "custom", message: "must be more than 0s and at most 1h" });
});

/** Milliseconds in a duration string (`1m30s` → 90000); 0 for text that is not one. */
export function durationMs(text: string): number {
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)([hms])/g)) total += Number(amount) * (DURATION_UNITS[unit ?? ""] ?? 0);
  return total;
}

/** How long a release waits for its workloads by default. */
export const DEFAULT_WAIT = "5m";

/** How long a release waits for its objects to be current (`true` or `{}`: the default), or `false` to report success once applied. */
export const waitSchema = z.union([z.boolean(), z.strictObject({ timeout: duration.optional() })], { error: "must be false, true or { timeout: <duration> }" });

/** What a release that does not become healthy does: roll back to the last successful release, or leave the cluster as applied. */
export const onFailureSchema = z.enum(["none", "rollback"]);

/** One deploy target of a repository. */
export const environmentSchema = z.strictObject({
  name: z.string().regex(dnsLabel, "must be a DNS label (lower-case letters, digits, -)").max(63),
  branch: z.string().min(1),
  path: repoPath,
  cluster: z.string().min(1),
  namespace: z.string().regex(dnsLabel, "must be a DNS label (lower-case letters, digits, -)").max(63),
  prune: z.boolean().default(true),
  after: z.string().optional(),
  /** How `path` is rendered; absent means `auto`. */
  render: renderModeSchema.optional(),
  helm: helmOptionsSchema.optional(),
  /** How long a release waits for its workloads to be up; absent means `{ timeout: 5m }`. */
  wait: waitSchema.optional(),
  /** What a release that does not become healthy does; absent means `none`. */
  onFailure: onFailureSchema.optional(),
});

/** `.ferry.yml`, version 1. */
export const ferryConfigSchema = z
  .strictObject({
    version: z.literal(1),
    environments: z.array(environmentSchema).min(1),
  })
  .superRefine((config, ctx) => {
    const names = new Set<string>();
    config.environments.forEach((env, i) => {
      if (names.has(env.name)) {
        ctx.addIssue({ code: "custom", path: ["environments", i, "name"], message: `duplicate environment "${env.name}"` });
      }
      names.add(env.name);
    });
    config.environments.forEach((env, i) => {
      if (env.helm !== undefined && env.render !== undefined && env.render !== "auto" && env.render !== "helm") {
        ctx.addIssue({ code: "custom", path: ["environments", i, "helm"], message: `helm options need render: helm or auto, not ${env.render}` });
      }
      if (env.onFailure === "rollback" && env.wait === false) {
        ctx.addIssue({ code: "custom", path: ["environments", i, "onFailure"], message: "rollback needs a release that waits for health: drop wait: false" });
      }
      if (env.after !== undefined && !names.has(env.after)) {
        ctx.addIssue({ code: "custom", path: ["environments", i, "after"], message: `no environment named "${env.after}"` });
      }
    });
  });

/** A named deploy target: a directory of manifests, its branch, cluster and default namespace. */
export type Environment = z.output<typeof environmentSchema>;

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

/** The environment as `.ferry.yml` declares it (placeholder until fleet targets land). */
export type DeclaredEnvironment = Environment;
