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
