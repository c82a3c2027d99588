import {
  Composer,
  isScalar,
  LineCounter,
  Parser,
  type Document,
  type DocumentOptions,
  type ParseOptions,
  type SchemaOptions,
} from "yaml";
import { findTooDeepTokens, tooDeepMessage } from "../yaml/yaml-nesting.js";
import type { KubeObject, RenderedObject } from "./types.js";

/** Errors listed in full before the rest are only counted, so a broken tree cannot produce a huge message. */
const MAX_REPORTED_PROBLEMS = 50;

/**
 * YAML 1.1 as kubectl reads it (go-yaml v2): `0644` is octal, `yes`/`on` are booleans, `<<` merges.
 * go-yaml leaves sexagesimal numbers (`12:30`) and timestamps as strings, so those tags are dropped.
 */
const YAML_OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = {
  version: "1.1",
  prettyErrors: false,
  customTags: (tags) =>
    tags.filter(
      (tag) => typeof tag === "string" || (tag.format !== "TIME" && tag.tag !== "tag:yaml.org,2002:timestamp"),
    ),
};

/** Aliases one document may expand; low, so a "billion laughs" document fails at once. */
const MAX_ALIAS_COUNT = 100;

/**
 * Parses a stream of YAML (or JSON) documents into objects, as kubectl reads them, adding what is wrong
 * with it to `problems`. `file` names the stream in sources: `file` alone for one document, `file#n` for several.
 */
export function parseManifests(text: string, file: string, problems: string[]): RenderedObject[] {
  // Lexed once, one top-level token at a time (so a document's syntax tree is garbage once composed):
  // each is checked for depth, then composed.
  const lineCounter = new LineCounter();
  const composer = new Composer(YAML_OPTIONS);
  const documents: Document.Parsed[] = [];
  for (const token of new Parser(lineCounter.addNewLine).parse(text)) {
    const deep = findTooDeepTokens([token], lineCounter);
    if (deep !== undefined) {
      // Refused before the composer recurses into it (see MAX_YAML_NESTING).
      problems.push(`${file}:${deep.line}:${deep.col}: ${tooDeepMessage(deep)}`);
      return [];
    }
    documents.push(...composer.next(token));
  }
  documents.push(...composer.end());
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

/** Adds `value` to `objects` when it is a Kubernetes object Ferry can apply, otherwise says what is wrong. */
function addObject(value: unknown, source: string, objects: RenderedObject[], problems: string[]): void {
  const generated = generateNameProblem(value);
  if (generated !== undefined) {
    problems.push(`${source}: ${generated}`);
    return;
  }
  const problem = objectProblem(value);
  if (problem === undefined) objects.push({ object: value as KubeObject, source });
  else problems.push(`${source}: not a Kubernetes object: ${problem}`);
}

/**
 * An object named only by `generateName` is a Kubernetes object, but one that apply cannot handle:
 * apply finds its object by name, and a generated name is new on every create. Said in kubectl's words.
 */
function generateNameProblem(value: unknown): string | undefined {
  const metadata = isRecord(value) ? value.metadata : undefined;
  if (!isRecord(metadata) || (typeof metadata.name === "string" && metadata.name !== "")) return undefined;
  if (typeof metadata.generateName !== "string" || metadata.generateName === "") return undefined;
  return `from ${metadata.generateName}: cannot use generate name with apply (server-side apply needs metadata.name: give the object a fixed name)`;
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
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** One line per object that appears more than once (same API group, kind, namespace and name), naming both sources. */
export function findDuplicates(objects: RenderedObject[]): string[] {
  const seen = new Map<string, string>();
  const problems: string[] = [];
  for (const { object, source } of objects) {
    const group = object.apiVersion.includes("/") ? object.apiVersion.split("/")[0] : "";
    const { name, namespace } = object.metadata;
    const key = JSON.stringify([group, object.kind, namespace ?? "", name]);
    const first = seen.get(key);
    if (first === undefined) seen.set(key, source);
    else
      problems.push(
        `${source}: duplicate ${object.kind} ${namespace === undefined ? name : `${namespace}/${name}`}, also in ${first}`,
      );
  }
  return problems;
}

/** The error message: every problem on its own line, the tail counted past a limit. */
export function formatProblems(problems: string[]): string {
  const shown = problems.slice(0, MAX_REPORTED_PROBLEMS);
  const hidden = problems.length - shown.length;
  return hidden > 0 ? [...shown, `… and ${hidden} more`].join("\n") : shown.join("\n");
}
