import { isNode, LineCounter, parseAllDocuments } from "yaml";
import type { CheckAnnotation } from "../forge/types.js";

/** Reads a repository file by its path from the root; undefined when it is not there (or not a plain file). */
export type ReadSource = (path: string) => Promise<string | undefined>;

/** Most annotations one plan makes: GitHub shows them all, but past this many they stop helping. */
const MAX_ANNOTATIONS = 500;

/** `file:line:column: message`, as config and manifest parse errors say where they are. */
const AT_LINE = /^([^\s:][^:\n]*):(\d+):(\d+): (.+)$/;

/** `Kind ns/name (source): message`, as a refused object is reported (`throwIfRefused`). */
const REFUSED_OBJECT = /^(\S+) (?:\S+\/)?(\S+) \(([^()]+)\): (.+)$/;

/** An object's source: a file, which document of it (`#2`) and which item of a List (` items[3]`). */
const SOURCE = /^(.+?)(?:#(\d+))?(?: items\[(\d+)\])?$/;

/** A field path as the API server names it: `spec.template.spec.containers[0].image`. */
const FIELD = String.raw`[A-Za-z_$][\w$-]*(?:\[\d+\]|\.[A-Za-z_$][\w$./-]*)*`;

/** Where the API server's messages name a field, most specific first. */
const FIELD_PATTERNS = [
  new RegExp(String.raw`unknown field "(${FIELD})"`),
  new RegExp(String.raw`duplicate field "(${FIELD})"`),
  new RegExp(
    String.raw`(?:is invalid: \[?|, )(${FIELD}): (?:Invalid value|Required value|Unsupported value|Duplicate value|Forbidden|Too long|Too many|Not found)`,
  ),
  new RegExp(String.raw`\.(${FIELD}): field not declared in schema`),
];

/**
 * The lines of a plan's error that point at a file and line, as check-run annotations: config and
 * manifest parse errors (`file:line:column: message`), and objects the API server refused whose
 * message names a field, found in the object's manifest (plain YAML in the repository, the same
 * kind and name in the document the source names; a Helm template or a Kustomize output is not, and
 * stays in the error's text only). Paths leaving the repository are never read.
 */
export async function errorAnnotations(error: string, readSource: ReadSource): Promise<CheckAnnotation[]> {
  const out: CheckAnnotation[] = [];
  for (const line of error.split("\n")) {
    if (out.length >= MAX_ANNOTATIONS) break;
    const at = AT_LINE.exec(line);
    if (at) {
      const [, path = "", row = "1", , message = ""] = at;
      if (!safePath(path)) continue;
      const n = Number(row);
      out.push({ path, startLine: n, endLine: n, level: "failure", message, title: "Ferry plan" });
      continue;
    }
    const refused = REFUSED_OBJECT.exec(line);
    if (!refused) continue;
    const [, kind = "", name = "", source = "", message = ""] = refused;
    const found = await locateRefusal({ kind, name, source, message }, readSource);
    if (found) out.push({ ...found, level: "failure", message, title: `${kind} ${name}` });
  }
  return out;
}

/** The file and line of the field a refused object's message names, when its manifest holds it. */
async function locateRefusal(
  refusal: { kind: string; name: string; source: string; message: string },
  readSource: ReadSource,
): Promise<Pick<CheckAnnotation, "path" | "startLine" | "endLine"> | undefined> {
  const field = FIELD_PATTERNS.map((p) => p.exec(refusal.message)?.[1]).find((f) => f !== undefined);
  const source = SOURCE.exec(refusal.source);
  if (field === undefined || !source) return undefined;
  const [, path = "", doc, item] = source;
  if (!safePath(path)) return undefined;
  const text = await readSource(path).catch(() => undefined);
  if (text === undefined) return undefined;
  const lines = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter: lines });
  if (!Array.isArray(documents)) return undefined;
  const nonEmpty = documents.filter((d) => d.contents !== null);
  // Sources number every document of the file (`#2`), empty ones too; a file with one object has no number.
  const document = doc === undefined ? nonEmpty[0] : documents[Number(doc) - 1];
  if (document === undefined || document.errors.length > 0) return undefined;
  const base: Array<string | number> = item === undefined ? [] : ["items", Number(item)];
  const object: unknown = document.getIn(base);
  if (!sameObject(object, refusal.kind, refusal.name)) return undefined;
  const path_ = [...base, ...fieldPath(field)];
  // The deepest node that exists: a missing required field is shown at its parent.
  for (let depth = path_.length; depth >= base.length; depth--) {
    const node: unknown = document.getIn(path_.slice(0, depth), true);
    if (isNode(node) && node.range) {
      const start = lines.linePos(node.range[0]).line;
      return { path, startLine: start, endLine: start };
    }
  }
  return undefined;
}

/** Whether a parsed manifest is the object of that kind and name. */
function sameObject(object: unknown, kind: string, name: string): boolean {
  if (typeof object !== "object" || object === null) return false;
  const o = object as { toJSON?: () => unknown };
  const value = (typeof o.toJSON === "function" ? o.toJSON() : object) as {
    kind?: unknown;
    metadata?: { name?: unknown };
  };
  return value.kind === kind && value.metadata?.name === name;
}

/** `spec.containers[0].image` as path segments: `["spec", "containers", 0, "image"]`. */
function fieldPath(field: string): Array<string | number> {
  const out: Array<string | number> = [];
  for (const part of field.split(".")) {
    const m = /^([^[]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) {
      out.push(part);
      continue;
    }
    if (m[1]) out.push(m[1]);
    for (const index of (m[2] ?? "").matchAll(/\[(\d+)\]/g)) out.push(Number(index[1]));
  }
  return out;
}

/** A repository-relative path that stays inside the repository. */
function safePath(path: string): boolean {
  return path !== "" && !path.startsWith("/") && !path.split(/[\\/]/).includes("..");
}
