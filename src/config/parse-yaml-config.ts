import { LineCounter, parseDocument, isNode } from "yaml";
import type { z } from "zod";
import { permanent } from "../errors.js";
import { findTooDeepYaml, tooDeepMessage } from "../yaml/yaml-nesting.js";

/** Most aliases a config may use; stops "billion laughs" documents before they expand. */
const MAX_ALIASES = 50;

/** Largest config file a repository may hold (`.ferry.yml`), in bytes. */
export const MAX_CONFIG_BYTES = 256 * 1024;

/** Largest server config, in bytes: the operator's, and a fleet of 10,000 clusters takes a few MiB. */
export const MAX_SERVER_CONFIG_BYTES = 32 * 1024 * 1024;

/**
 * Parses YAML text and validates it against a zod schema, reporting every problem at once as
 * `file:line:column: field: message` lines in one permanent FerryError.
 */
export function parseYamlConfig<S extends z.ZodType>(
  text: string,
  file: string,
  schema: S,
  maxBytes = MAX_CONFIG_BYTES,
): z.output<S> {
  if (Buffer.byteLength(text) > maxBytes) {
    throw permanent(`${file}: larger than ${maxBytes / 1024} KiB`);
  }
  // Refused before the parser recurses into it (see MAX_YAML_NESTING).
  const deep = findTooDeepYaml(text);
  if (deep !== undefined) throw permanent(`${file}:${deep.line}:${deep.col}: ${tooDeepMessage(deep)}`);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const where = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  if (doc.errors.length > 0) {
    throw permanent(doc.errors.map((e) => `${where(e.pos[0])}: ${firstLine(e.message)}`).join("\n"));
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (error) {
    throw permanent(`${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const path = issue.path.map(String);
    // Point at the deepest node that exists: a missing field is reported at its parent.
    let node: unknown;
    for (let depth = path.length; depth >= 0 && !isNode(node); depth--) {
      node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    }
    const offset = isNode(node) && node.range ? node.range[0] : 0;
    const field = path.length > 0 ? path.join(".") : "(top level)";
    return `${where(offset)}: ${field}: ${issue.message}`;
  });
  throw permanent(lines.join("\n"));
}

function firstLine(message: string): string {
  return message.split("\n")[0] ?? message;
}
