import {
  CST,
  LineCounter,
  parse,
  Parser,
  type DocumentOptions,
  type ParseOptions,
  type SchemaOptions,
  type ToJSOptions,
} from "yaml";

/**
 * Deepest nesting of collections Ferry parses in any YAML it reads (`.ferry.yml`, manifests,
 * kustomizations, charts). Real manifests, CRD schemas included, stay far below it.
 *
 * Why: the yaml library composes nodes recursively. A few kilobytes of `[[[[…` exhaust the stack,
 * and V8 then compiles the lexer's regular expressions with no stack left, which it reports as a
 * fatal out-of-memory error that kills the whole process (seen on Node 24 at ~800 levels). So depth
 * is measured on the concrete syntax tree, which the library builds without recursion, before
 * anything is composed.
 */
export const MAX_YAML_NESTING = 200;

/** Where YAML text first nests deeper than the limit. */
export interface TooDeep {
  /** Offset in the text of the first collection past the limit. */
  offset: number;
  /** Its line, from 1. */
  line: number;
  /** Its column, from 1. */
  col: number;
  /** The limit it passed. */
  limit: number;
}

/**
 * The first place `text` nests collections more than `limit` levels deep, or undefined when it
 * does not; walks the concrete syntax tree with an explicit stack, so depth costs no call stack.
 */
export function findTooDeepYaml(text: string, limit = MAX_YAML_NESTING): TooDeep | undefined {
  const lines = new LineCounter();
  return findTooDeepTokens(new Parser(lines.addNewLine).parse(text), lines, limit);
}

/**
 * {@link findTooDeepYaml} on tokens of an already parsed syntax tree (built without recursion), so
 * a caller can check each document and then compose it (`Composer.next`) without lexing twice.
 */
export function findTooDeepTokens(
  tokens: Iterable<CST.Token>,
  lines: LineCounter,
  limit = MAX_YAML_NESTING,
): TooDeep | undefined {
  for (const document of tokens) {
    // `depth`: how many collections enclose the token.
    const pending: Array<{ token: CST.Token; depth: number }> = [{ token: document, depth: 0 }];
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      const { token, depth } = next;
      const level = token.type === "document" ? depth : depth + 1;
      const children = childrenOf(token);
      if (children.length > 0 && level > limit) return { offset: token.offset, ...lines.linePos(token.offset), limit };
      for (const child of children) if (isCollection(child)) pending.push({ token: child, depth: level });
    }
  }
  return undefined;
}

/** The tokens a token holds: a document's value, a collection's keys and values. */
function childrenOf(token: CST.Token): CST.Token[] {
  switch (token.type) {
    case "document":
      return token.value === undefined ? [] : [token.value];
    case "block-map":
    case "block-seq":
    case "flow-collection": {
      const children: CST.Token[] = [];
      for (const { key, value } of token.items) {
        if (key) children.push(key);
        if (value) children.push(value);
      }
      return children;
    }
    default:
      return [];
  }
}

/** True for the tokens that can hold others (scalars cannot, so they need no walking). */
function isCollection(token: CST.Token): boolean {
  return token.type === "block-map" || token.type === "block-seq" || token.type === "flow-collection";
}

/**
 * `yaml.parse` for one document that first refuses text nested deeper than `MAX_YAML_NESTING`,
 * throwing an Error that says so; otherwise it throws what `yaml.parse` throws.
 */
export function parseBoundedYaml(
  text: string,
  options: ParseOptions & DocumentOptions & SchemaOptions & ToJSOptions,
): unknown {
  const deep = findTooDeepYaml(text);
  if (deep !== undefined) throw new Error(tooDeepMessage(deep));
  return parse(text, options) as unknown;
}

/** What Ferry says of text nested too deeply. */
export function tooDeepMessage(deep: TooDeep): string {
  return `nested more than ${deep.limit} levels deep`;
}
