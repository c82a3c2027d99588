import { mkdtemp, readdir, readFile, realpath, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { permanent } from "../errors.js";
import { applyHookPolicy } from "./helm-hooks.js";
import { findDuplicates, formatProblems, isRecord, parseManifests } from "./parse-manifests.js";
import { parseBoundedYaml } from "../yaml/yaml-nesting.js";
import { isInside, resolveEnvironmentPath } from "./repo-paths.js";
import { runTool } from "./run-tool.js";
import { DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_TIMEOUT_MS, type ToolLimits } from "./tool-limits.js";
import type { RenderedObject, Renderer, RenderTarget } from "./types.js";

/** Where the `helm` binary is, and the limits it runs under. */
export interface HelmRendererOptions extends ToolLimits {
  /** The `helm` binary: a path, or a name looked up on PATH. */
  command: string;
}

/**
 * Renders a chart in the repository with `helm template`: release name (default: the environment's
 * name), the environment's namespace, its values files then its inline values (which win), CRDs from
 * `crds/` included, test hooks left out and other hooks handled by `applyHookPolicy`. Dependencies
 * must be vendored in the chart's `charts/` directory: nothing is fetched (no `--dependency-update`,
 * no repositories, no network; see `runTool`). Objects are named by the template they came from,
 * relative to the repository: `charts/shop/templates/web.yaml#2`.
 */
export class HelmRenderer implements Renderer {
  /** Creates a renderer running the given binary. */
  constructor(private readonly options: HelmRendererOptions) {}

  /** Renders the chart in `env.path` for `env`. */
  async render(root: string, env: RenderTarget): Promise<RenderedObject[]> {
    const realRoot = await realpath(root);
    const dir = await resolveEnvironmentPath(realRoot, env.path);
    await checkVendoredDependencies(realRoot, dir);
    const helm = env.helm ?? {};
    const valuesFiles = await Promise.all(
      (helm.valuesFiles ?? []).map((file) => resolveValuesFile(realRoot, dir, file)),
    );
    const scratch = await mkdtemp(path.join(tmpdir(), "ferry-helm-values-"));
    try {
      if (helm.values !== undefined) {
        // JSON is YAML: the inline values reach helm exactly as .ferry.yml held them.
        valuesFiles.push(path.join(scratch, "inline-values.yaml"));
        await writeFile(path.join(scratch, "inline-values.yaml"), JSON.stringify(helm.values));
      }
      const output = await runTool({
        label: `helm template ${env.path}`,
        command: this.options.command,
        args: [
          "template",
          helm.releaseName ?? env.name,
          dir,
          "--namespace",
          env.namespace,
          "--include-crds",
          "--skip-tests",
          ...(helm.hooks === "skip" ? ["--no-hooks"] : []),
          ...valuesFiles.flatMap((file) => ["--values", file]),
        ],
        cwd: dir,
        timeoutMs: this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        maxOutputBytes: this.options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
      });
      return applyHookPolicy(parseHelmOutput(output, env.path), helm.hooks ?? "refuse", env.path);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
}

/**
 * Parses `helm template` output into objects named by their template: helm heads each document with
 * `# Source: <chart>/templates/x.yaml`, and the chart's name is replaced by its path in the repository.
 * Throws one permanent FerryError listing every problem, duplicates included (helm does not refuse them).
 */
export function parseHelmOutput(text: string, chartPath: string): RenderedObject[] {
  const groups: Array<{ source: string; documents: string[] }> = [];
  for (const document of text.split(/^---[ \t]*$/m)) {
    const header = /^# Source: (.+)$/m.exec(document);
    const source =
      header?.[1] !== undefined ? sourceInRepository(header[1].trim(), chartPath) : `helm template ${chartPath}`;
    const last = groups.at(-1);
    if (last?.source === source) last.documents.push(document);
    else groups.push({ source, documents: [document] });
  }
  const problems: string[] = [];
  const objects = groups.flatMap(({ source, documents }) =>
    parseManifests(documents.join("\n---\n"), source, problems),
  );
  problems.push(...findDuplicates(objects));
  if (problems.length > 0) throw permanent(formatProblems(problems));
  return objects;
}

/** `shop/charts/redis/templates/x.yaml` as a path in the repository: the chart's name replaced by its path. */
function sourceInRepository(helmPath: string, chartPath: string): string {
  const slash = helmPath.indexOf("/");
  return slash < 0 ? path.posix.join(chartPath, helmPath) : path.posix.join(chartPath, helmPath.slice(slash + 1));
}

/** A values file's absolute path, refusing one that leaves the repository or is not a file. */
async function resolveValuesFile(realRoot: string, chartDir: string, file: string): Promise<string> {
  const name = path.relative(realRoot, path.resolve(chartDir, file));
  if (path.isAbsolute(file) || file.split(/[/\\]/).includes(".."))
    throw permanent(`values file ${file} must be a relative path inside the chart's directory`);
  const real = await realpath(path.resolve(chartDir, file)).catch((error: unknown) => {
    throw permanent(`values file ${name} does not exist in the repository`, { cause: error });
  });
  if (!isInside(realRoot, real)) throw permanent(`values file ${name} leads outside the repository through a symlink`);
  if (!(await stat(real)).isFile()) throw permanent(`values file ${name} is not a file`);
  return real;
}

/**
 * Refuses a chart (or a vendored subchart) whose declared dependencies are not vendored in its
 * `charts/` directory, before helm runs: helm's own message ("You may need to run `helm dependency
 * build`") suggests a fetch Ferry never makes. A dependency counts as vendored when `charts/` holds
 * a chart directory of that name or a `<name>-<version>.tgz` archive; helm checks the rest.
 */
export async function checkVendoredDependencies(realRoot: string, chartDir: string): Promise<void> {
  const problems: string[] = [];
  await checkChart(realRoot, chartDir, problems, 0);
  if (problems.length > 0) throw permanent(formatProblems(problems));
}

/** Adds the declared but unvendored dependencies of the chart in `chartDir`, and of its vendored subcharts, to `problems`. */
async function checkChart(realRoot: string, chartDir: string, problems: string[], depth: number): Promise<void> {
  const dependencies = [
    ...(await declaredDependencies(path.join(chartDir, "Chart.yaml"))),
    ...(await declaredDependencies(path.join(chartDir, "requirements.yaml"))),
  ];
  const vendored = await vendoredCharts(path.join(chartDir, "charts"));
  const where = path.relative(realRoot, chartDir) || ".";
  for (const dependency of dependencies) {
    const found =
      vendored.dirs.get(dependency.name) ?? vendored.archives.find((file) => file.startsWith(`${dependency.name}-`));
    if (found === undefined) {
      const from = dependency.repository ? ` (from ${dependency.repository})` : "";
      problems.push(
        `chart ${where}: dependency ${dependency.name}${from} is not vendored in ${path.posix.join(where, "charts")}/; Ferry renders charts without network access: run helm dependency build and commit the charts/ directory`,
      );
    }
  }
  // Vendored subcharts may declare dependencies of their own, vendored in their own charts/.
  if (depth < 5) for (const dir of vendored.dirs.values()) await checkChart(realRoot, dir, problems, depth + 1);
}

/** The dependencies a Chart.yaml (apiVersion v2) or requirements.yaml (v1) declares; none when it cannot be read, as helm reports that. */
async function declaredDependencies(file: string): Promise<Array<{ name: string; repository?: string }>> {
  let document: unknown;
  try {
    document = parseBoundedYaml(await readFile(file, "utf8"), { maxAliasCount: 100 });
  } catch {
    return [];
  }
  if (!isRecord(document) || !Array.isArray(document.dependencies)) return [];
  return document.dependencies.flatMap((entry: unknown) =>
    isRecord(entry) && typeof entry.name === "string"
      ? [{ name: entry.name, repository: typeof entry.repository === "string" ? entry.repository : undefined }]
      : [],
  );
}

/** The charts a `charts/` directory holds: directories by their Chart.yaml name, and archive file names. */
async function vendoredCharts(dir: string): Promise<{ dirs: Map<string, string>; archives: string[] }> {
  const dirs = new Map<string, string>();
  const archives: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isFile() && /\.tgz$/.test(entry.name)) archives.push(entry.name);
    if (!entry.isDirectory()) continue;
    let chart: unknown;
    try {
      chart = parseBoundedYaml(await readFile(path.join(full, "Chart.yaml"), "utf8"), { maxAliasCount: 100 });
    } catch {
      continue;
    }
    dirs.set(isRecord(chart) && typeof chart.name === "string" ? chart.name : entry.name, full);
  }
  return { dirs, archives };
}
