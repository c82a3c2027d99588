import { readdir, readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { permanent } from "../errors.js";
import { findDuplicates, formatProblems, parseManifests } from "./parse-manifests.js";
import { isInside, resolveEnvironmentPath } from "./repo-paths.js";
import type { RenderedObject, Renderer, RenderTarget } from "./types.js";

/** Limits for `PlainRenderer`. */
export interface PlainRendererOptions {
  /** Most objects one render may produce, counting each document and each List item; default 10,000. */
  maxDocuments?: number;
  /** Largest manifest file read, in bytes; default 8 MiB (an object in etcd is capped at 1.5 MiB). */
  maxFileBytes?: number;
}

/** Files read as manifests; JSON is read by the YAML parser too, as kubectl does. */
const MANIFEST_FILE = /\.(ya?ml|json)$/;

/** Renders a directory of plain YAML and JSON manifests, recursively, in sorted order. */
export class PlainRenderer implements Renderer {
  private readonly maxDocuments: number;
  private readonly maxFileBytes: number;

  /** Creates a renderer with the given limits. */
  constructor(options: PlainRendererOptions = {}) {
    this.maxDocuments = options.maxDocuments ?? 10_000;
    this.maxFileBytes = options.maxFileBytes ?? 8 * 1024 * 1024;
  }

  /**
   * Reads every `.yaml`, `.yml` and `.json` file under `env.path`, skipping hidden files and directories.
   * Symlinks are followed only to files inside `root`; one leading out is an error, one to a directory is skipped.
   * Throws one permanent FerryError listing every problem found (one per line), not just the first.
   */
  async render(root: string, env: Pick<RenderTarget, "path">): Promise<RenderedObject[]> {
    const envPath = env.path;
    const realRoot = await realpath(root);
    const dir = await resolveEnvironmentPath(realRoot, envPath);
    const problems: string[] = [];
    const files: string[] = [];
    await walk(realRoot, dir, files, problems);

    const objects: RenderedObject[] = [];
    for (const file of files) {
      const source = path.relative(realRoot, file);
      const size = (await stat(file)).size;
      if (size > this.maxFileBytes) {
        problems.push(`${source}: larger than the ${this.maxFileBytes}-byte limit per manifest file`);
        continue;
      }
      objects.push(...parseManifests(await readFile(file, "utf8"), source, problems));
      if (objects.length > this.maxDocuments) {
        throw permanent(`${envPath}: more than ${this.maxDocuments} objects`);
      }
    }
    problems.push(...findDuplicates(objects));
    if (problems.length > 0) throw permanent(formatProblems(problems));
    return objects;
  }
}

/** Appends the manifest files under `dir` to `files`, depth first, each directory's entries sorted by name. */
async function walk(realRoot: string, dir: string, files: string[], problems: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith(".")) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      await walk(realRoot, full, files, problems);
    } else if (entry.isSymbolicLink()) {
      const target = await realpath(full).catch(() => undefined);
      if (target === undefined) continue; // a dangling link holds nothing to render
      if (!isInside(realRoot, target)) {
        problems.push(`${path.relative(realRoot, full)}: symlink leads outside the repository`);
      } else if (MANIFEST_FILE.test(entry.name) && (await stat(target)).isFile()) {
        files.push(full);
      }
    } else if (entry.isFile() && MANIFEST_FILE.test(entry.name)) {
      files.push(full);
    }
  }
}
