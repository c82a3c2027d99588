import { isLabelKey } from "./label-syntax.js";

/** What a template in `.ferry.yml` refers to: `${cluster.name}` or `${cluster.labels.<key>}`. */
export type TemplateRef = { kind: "name" } | { kind: "label"; key: string };

/** A string split into literal text and templates, read once and filled in for many clusters. */
export interface ParsedTemplates {
  /** Literal text (with `$${` already turned into `${`) and templates, in order. */
  pieces: (string | TemplateRef)[];
  /** Templates that are not allowed, one sentence each; their text is kept as a literal piece. */
  problems: string[];
}

/** Result of expanding the templates in one string. */
export interface Expansion {
  /** The text with every template replaced and every `$${` turned into a literal `${`. */
  text: string;
  /** Templates that are not allowed, one sentence each; empty when all were understood. */
  problems: string[];
}

/** What an error says templates may be. */
const ALLOWED = "only ${cluster.name} and ${cluster.labels.<key>} are allowed (write $${ for a literal ${)";

/** An escaped `$${`, a template `${...}`, or an unclosed `${`, in that order of preference. */
const TOKEN = /\$\$\{|\$\{([^}]*)\}|\$\{/g;

/**
 * Splits `text` into literal pieces and templates. Only `${cluster.name}` and
 * `${cluster.labels.<key>}` (a valid label key) are templates; any other `${...}` is a problem, and
 * `$${` stands for a literal `${`.
 */
export function parseTemplates(text: string): ParsedTemplates {
  if (!text.includes("${")) return { pieces: [text], problems: [] };
  const pieces: (string | TemplateRef)[] = [];
  const problems: string[] = [];
  let literal = "";
  let from = 0;
  for (const match of text.matchAll(TOKEN)) {
    literal += text.slice(from, match.index);
    from = match.index + match[0].length;
    const inner = match[1];
    if (match[0] === "$${") {
      literal += "${";
      continue;
    }
    const ref = inner === undefined ? `unclosed \${: ${ALLOWED}` : templateRef(inner);
    if (typeof ref === "string") {
      problems.push(ref);
      literal += match[0];
      continue;
    }
    if (literal !== "") pieces.push(literal);
    pieces.push(ref);
    literal = "";
  }
  literal += text.slice(from);
  if (literal !== "" || pieces.length === 0) pieces.push(literal);
  return { pieces, problems };
}

/** Replaces each template in `text` by what `valueOf` gives for it; see `parseTemplates` for what a template is. */
export function expandTemplates(text: string, valueOf: (ref: TemplateRef) => string): Expansion {
  const { pieces, problems } = parseTemplates(text);
  return { text: pieces.map((piece) => (typeof piece === "string" ? piece : valueOf(piece))).join(""), problems };
}

/** The reference `inner` (the text between `${` and `}`) makes, or why it is not one. */
function templateRef(inner: string): TemplateRef | string {
  if (inner === "cluster.name") return { kind: "name" };
  if (inner.startsWith("cluster.labels.")) {
    const key = inner.slice("cluster.labels.".length);
    return isLabelKey(key) ? { kind: "label", key } : `\${${inner}}: "${key}" is not a label key`;
  }
  return `unknown template \${${inner}}: ${ALLOWED}`;
}
