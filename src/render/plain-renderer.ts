import { readdir, readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { isScalar, LineCounter, parseAllDocuments, type DocumentOptions, type ParseOptions, type SchemaOptions } from "yaml";
import { permanent } from "../errors.js";
import type { KubeObject, RenderedObject, Renderer } from "./types.js";

/** Limits for `PlainRenderer`. */
export interface PlainRendererOptions {
  /** Most objects one render may produce, counting each document and each List item; default 10,000. */
  maxDocuments?: number;
  /** Largest manifest file read, in bytes; default 8 MiB (an object in etcd is capped at 1.5 MiB). */
  maxFileBytes?: number;
}

/** Files read as manifests; JSON is read by the YAML parser too, as kubectl does. */
const MANIFEST_FILE = /\.(ya?ml|json)$/;

/** Errors listed in full before the rest are only counted, so a broken tree cannot produce a huge message. */
const MAX_REPORTED_PROBLEMS = 50;

/**
 * YAML 1.1 as kubectl reads it (go-yaml v2): `0644` is octal, `yes`/`on` are booleans, `<<` merges.
 * go-yaml leaves sexagesimal numbers (`12:30`) and timestamps as strings, so those tags are dropped.
 */
const YAML_OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = {
  version: "1.1",
  prettyErrors: false,
  customTags: (tags) => tags.filter((tag) => typeof tag === "string" || (tag.format !== "TIME" && tag.tag !== "tag:yaml.org,2002:timestamp")),
};

/** Aliases one document may expand; low, so a "billion laughs" document fails at once. */
const MAX_ALIAS_COUNT = 100;

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
   * Reads every `.yaml`, `.yml` and `.json` file under `path`, skipping hidden files and directories.
   * Symlinks are followed only to files inside `root`; one leading out is an error, one to a directory is skipped.
   * Throws one permanent FerryError listing every problem found (one per line), not just the first.
   */
  async render(root: string, envPath: string): Promise<RenderedObject[]> {
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

/** Resolves the environment's path inside the repository, refusing anything that leaves it, even through a symlink. */
async function resolveEnvironmentPath(realRoot: string, envPath: string): Promise<string> {
  if (path.isAbsolute(envPath)) throw permanent(`environment path ${envPath} must be relative to the repository root`);
  if (envPath.split(/[/\\]/).includes("..")) throw permanent(`environment path ${envPath} must not contain ..`);
  const logical = path.resolve(realRoot, envPath);
  const real = await realpath(logical).catch((error: unknown) => {
    throw permanent(`environment path ${envPath} does not exist in the repository`, { cause: error });
  });
  if (!isInside(realRoot, real)) throw permanent(`environment path ${envPath} leads outside the repository through a symlink`);
  if (!(await stat(real)).isDirectory()) throw permanent(`environment path ${envPath} is not a directory`);
  return logical;
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

/** True when `file` is `dir` or below it. */
function isInside(dir: string, file: string): boolean {
  const relative = path.relative(dir, file);
  return relative !== ".." && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}

/** Parses one file's documents into objects, adding what is wrong with it to `problems`. */
function parseManifests(text: string, file: string, problems: string[]): RenderedObject[] {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { ...YAML_OPTIONS, lineCounter });
  const numbered = documents
    .map((document, i) => ({ document, source: `${file}#${i + 1}` }))
    .filter(({ document }) => document.errors.length > 0 || !isEmpty(document.contents));
  const single = numbered.length === 1;

  const objects: RenderedObject[] = [];
  for (const { document, source: numberedSource } of numbered) {
    const source = single ? file : numberedSource;
    if (document.errors.length > 0) {
      for (const error of document.errors) {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        problems.push(`${file}:${line}:${col}: ${error.message}`);
      }
      continue;
    }
    let value: unknown;
    try {
      value = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      problems.push(`${source}: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    if (!isList(value)) {
      addObject(value, source, objects, problems);
    } else if (!Array.isArray(value.items)) {
      problems.push(`${source}: ${String(value.kind)} without an items sequence`);
    } else {
      value.items.forEach((item: unknown, i) => addObject(item, `${source} items[${i}]`, objects, problems));
    }
  }
  return objects;
}

/** True for a document with nothing in it, or only `null`. */
function isEmpty(contents: unknown): boolean {
  return contents === null || (isScalar(contents) && contents.value === null);
}

/** True for `kind: List`, or another `*List` kind with `items` (a `*List` kind without them is an ordinary object). */
function isList(value: unknown): value is Record<string, unknown> {
  if (!isRecord(value) || typeof value.kind !== "string") return false;
  return value.kind === "List" || (value.kind.endsWith("List") && "items" in value);
}

/** Adds `value` to `objects` when it is a Kubernetes object, otherwise says what is missing. */
function addObject(value: unknown, source: string, objects: RenderedObject[], problems: string[]): void {
  const problem = objectProblem(value);
  if (problem === undefined) objects.push({ object: value as KubeObject, source });
  else problems.push(`${source}: not a Kubernetes object: ${problem}`);
}

/** What stops `value` from being a `KubeObject`, or undefined when nothing does. */
function objectProblem(value: unknown): string | undefined {
  if (!isRecord(value)) return `expected a mapping, found ${Array.isArray(value) ? "a sequence" : typeof value}`;
  if (typeof value.apiVersion !== "string" || value.apiVersion === "") return "missing apiVersion";
  if (typeof value.kind !== "string" || value.kind === "") return "missing kind";
  const metadata = value.metadata;
  if (!isRecord(metadata) || typeof metadata.name !== "string" || metadata.name === "") return "missing metadata.name";
  if ("namespace" in metadata && typeof metadata.namespace !== "string") return "metadata.namespace must be a string";
  for (const field of ["labels", "annotations"]) {
    const map = metadata[field];
    if (map === undefined) continue;
    if (!isRecord(map)) return `metadata.${field} must be a mapping`;
    const bad = Object.entries(map).find(([, v]) => typeof v !== "string");
    if (bad !== undefined) return `metadata.${field}.${bad[0]} must be a string`;
  }
  return undefined;
}

/** True for a plain mapping (not null, not an array). */
function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** One line per object that appears more than once (same API group, kind, namespace and name), naming both sources. */
function findDuplicates(objects: RenderedObject[]): string[] {
  const seen = new Map<string, string>();
  const problems: string[] = [];
  for (const { object, source } of objects) {
    const group = object.apiVersion.includes("/") ? object.apiVersion.split("/")[0] : "";
    const { name, namespace } = object.metadata;
    const key = JSON.stringify([group, object.kind, namespace ?? "", name]);
    const first = seen.get(key);
    if (first === undefined) seen.set(key, source);
    else problems.push(`${source}: duplicate ${object.kind} ${namespace === undefined ? name : `${namespace}/${name}`}, also in ${first}`);
  }
  return problems;
}

/** The error message: every problem on its own line, the tail counted past a limit. */
function formatProblems(problems: string[]): string {
  const shown = problems.slice(0, MAX_REPORTED_PROBLEMS);
  const hidden = problems.length - shown.length;
  return hidden > 0 ? [...shown, `… and ${hidden} more`].join("\n") : shown.join("\n");
}
