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

/** One deploy target of a repository. */
export const environmentSchema = z.strictObject({
  name: z.string().regex(dnsLabel, "must be a DNS label (lower-case letters, digits, -)").max(63),
  branch: z.string().min(1),
  path: repoPath,
  cluster: z.string().min(1),
  namespace: z.string().regex(dnsLabel, "must be a DNS label (lower-case letters, digits, -)").max(63),
  prune: z.boolean().default(true),
  after: z.string().optional(),
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
