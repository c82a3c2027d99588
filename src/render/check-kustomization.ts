import { readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { permanent } from "../errors.js";
import { formatProblems, isRecord } from "./parse-manifests.js";
import { parseBoundedYaml } from "../yaml/yaml-nesting.js";
import { isInside } from "./repo-paths.js";

/** The names kustomize looks for in a directory, in its order. */
export const KUSTOMIZATION_FILES = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/** Most kustomizations one environment may reach; far above any real tree, low enough to stop a generated maze. */
const MAX_KUSTOMIZATIONS = 500;

/** Fields that name other kustomizations or manifest files, each entry a path (or, for some, inline YAML). */
const PATH_LIST_FIELDS = [
  "resources",
  "bases",
  "components",
  "crds",
  "configurations",
  "generators",
  "transformers",
  "validators",
  "patchesStrategicMerge",
];

/** Fields whose entries are objects with an optional `path`. */
const PATH_OBJECT_FIELDS = ["patches", "patchesJson6902", "replacements"];

/** Helm inflation inside kustomize fetches charts and runs helm outside Ferry's own Helm rendering. */
const HELM_FIELDS = ["helmCharts", "helmChartInflationGenerator", "helmGlobals"];

/**
 * Checks every kustomization reachable from `dir` (an environment's directory inside `realRoot`, the
 * repository's real path) before kustomize runs: every file or directory it names must be a local
 * path that exists inside the repository (no URLs, `git::`/`github.com/…`/`?ref=` remote bases, no
 * absolute paths, nothing resolving outside the repository, even through a symlink), and none may
 * inflate Helm charts. Kustomize's own root-only load restrictor keeps files under each
 * kustomization's directory but lets `resources` climb to any directory, which this closes.
 * Throws one permanent FerryError listing every problem, `<kustomization file>: <field>: <problem>`.
 */
export async function checkKustomizations(realRoot: string, dir: string): Promise<void> {
  const problems: string[] = [];
  const seen = new Set<string>();
  const queue = [await realpath(dir)];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    if (seen.has(next)) continue;
    seen.add(next);
    if (seen.size > MAX_KUSTOMIZATIONS)
      throw permanent(`${rel(realRoot, dir)}: reaches more than ${MAX_KUSTOMIZATIONS} kustomizations`);
    const file = await findKustomization(next);
    if (file === undefined) {
      problems.push(`${rel(realRoot, next)}: holds no ${KUSTOMIZATION_FILES.join(", ")}`);
      continue;
    }
    const name = rel(realRoot, file);
    let kustomization: unknown;
    try {
      kustomization = parseBoundedYaml(await readFile(file, "utf8"), { maxAliasCount: 100, prettyErrors: false });
    } catch (error) {
      problems.push(`${name}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
      continue;
    }
    if (!isRecord(kustomization)) continue; // kustomize says what is wrong with it
    for (const field of HELM_FIELDS) {
      if (field in kustomization)
        problems.push(
          `${name}: ${field}: Helm charts cannot be inflated by Kustomize in Ferry; render the chart as its own environment (render: helm)`,
        );
    }
    for (const { field, ref } of references(kustomization)) {
      const problem = await checkReference(realRoot, next, ref);
      if (typeof problem === "string") problems.push(`${name}: ${field}: ${problem}`);
      else if (problem.directory && field !== "configurations" && field !== "crds") queue.push(problem.real);
    }
  }
  if (problems.length > 0) throw permanent(formatProblems(problems));
}

/** The kustomization file of `dir`, or undefined. */
async function findKustomization(dir: string): Promise<string | undefined> {
  for (const name of KUSTOMIZATION_FILES) {
    const file = path.join(dir, name);
    if (
      await stat(file).then(
        (s) => s.isFile(),
        () => false,
      )
    )
      return file;
  }
  return undefined;
}

/** Every path a kustomization names, with the field it is in. */
function references(k: Record<string, unknown>): Array<{ field: string; ref: string }> {
  const refs: Array<{ field: string; ref: string }> = [];
  const add = (field: string, value: unknown) => {
    // Multi-line strings, flow mappings and `key: value` text are inline patches or configs, not paths.
    if (typeof value === "string" && value.trim() !== "" && !/\n|^\s*\{|: /.test(value))
      refs.push({ field, ref: value.trim() });
  };
  for (const field of PATH_LIST_FIELDS) for (const entry of asArray(k[field])) add(field, entry);
  for (const field of PATH_OBJECT_FIELDS)
    for (const entry of asArray(k[field])) if (isRecord(entry)) add(`${field}.path`, entry.path);
  if (isRecord(k.openapi)) add("openapi.path", k.openapi.path);
  for (const field of ["configMapGenerator", "secretGenerator"]) {
    for (const generator of asArray(k[field])) {
      if (!isRecord(generator)) continue;
      // `files` entries are `path` or `key=path`.
      for (const entry of asArray(generator.files))
        add(`${field}.files`, typeof entry === "string" ? entry.slice(entry.indexOf("=") + 1) : entry);
      for (const entry of asArray(generator.envs)) add(`${field}.envs`, entry);
      add(`${field}.env`, generator.env);
    }
  }
  return refs;
}

/** `value` when it is an array, else nothing. */
function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** What is wrong with `ref` named in the kustomization in `dir`, or where it leads. */
async function checkReference(
  realRoot: string,
  dir: string,
  ref: string,
): Promise<string | { real: string; directory: boolean }> {
  const remote = `${ref} is a remote reference; Ferry renders only what the repository holds (vendor it into the repository)`;
  if (isRemote(ref)) return remote;
  if (path.isAbsolute(ref)) return `${ref} is an absolute path; name files relative to the kustomization`;
  const logical = path.resolve(dir, ref);
  if (!isInside(realRoot, logical)) return `${ref} is outside the repository`;
  const real = await realpath(logical).catch(() => undefined);
  // Kustomize treats what is not found locally as a remote repository to clone: refuse it here.
  if (real === undefined) return HOST_PATH.test(ref) ? remote : `${ref} does not exist in the repository`;
  if (!isInside(realRoot, real)) return `${ref} leads outside the repository through a symlink`;
  return { real, directory: (await stat(real)).isDirectory() };
}

/** A `github.com/org/repo`-style path: remote when no such local directory exists. */
const HOST_PATH = /^[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}(:\d+)?\//i;

/** True for what kustomize would fetch whatever the repository holds: URLs, go-getter and scp-like git addresses, `?ref=` queries. */
export function isRemote(ref: string): boolean {
  return (
    /^[a-z][a-z0-9+.-]*:\/\//i.test(ref) ||
    /^[a-z0-9]+::/i.test(ref) ||
    /^[^/]+@[^/]+:/.test(ref) ||
    /[?&](ref|version|timeout|submodules)=/.test(ref)
  );
}

/** `file` relative to the repository, `.` for its root. */
function rel(realRoot: string, file: string): string {
  return path.relative(realRoot, file) || ".";
}
