import { parsePathElement, pathElementId, type FieldPath, type PathElement } from "./field-path.js";

/**
 * The fields one managedFields entry owns. In the FieldsV1 trie every name is a step (`f:`, `k:`,
 * `v:`, `i:`) and a path is in the set when its node is `{}` (a leaf: the field is owned whole, as
 * `f:selector` or `f:args` are when their type is atomic) or holds `"."` (the node itself is owned,
 * such as a list item, apart from the fields under it that are listed).
 */
export interface FieldSet {
  /** Every path in the set, parents before children. */
  paths(): FieldPath[];
  /** Whether the set holds exactly this path. */
  has(path: FieldPath): boolean;
  /** Whether the set holds this path or an ancestor owned whole, so that nobody else can own this field. */
  owns(path: FieldPath): boolean;
  /** Whether the set owns this path (as `owns`) or anything below it. */
  holdsUnder(path: FieldPath): boolean;
  /** The steps the set has below this path (none for a leaf), or undefined when it has nothing at or under it. */
  childrenAt(path: FieldPath): PathElement[] | undefined;
}

interface TrieNode {
  member: boolean;
  /** `{}`: owned whole, nothing listed below. */
  leaf: boolean;
  children: Map<string, { element: PathElement; node: TrieNode }>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Malformed members are skipped: a set that says less never makes Ferry claim a field it does not own. */
function buildNode(raw: Record<string, unknown>): TrieNode {
  const node: TrieNode = { member: false, leaf: Object.keys(raw).length === 0, children: new Map() };
  node.member = node.leaf;
  for (const [name, child] of Object.entries(raw)) {
    if (name === ".") {
      node.member = true;
      continue;
    }
    const element = parsePathElement(name);
    if (!element || !isPlainObject(child)) continue;
    node.children.set(pathElementId(element), { element, node: buildNode(child) });
  }
  return node;
}

/** The nodes from the root down along `path`, as far as the trie goes. */
function descend(root: TrieNode, path: FieldPath): TrieNode[] {
  const nodes = [root];
  let node = root;
  for (const element of path) {
    const next = node.children.get(pathElementId(element));
    if (!next) break;
    node = next.node;
    nodes.push(node);
  }
  return nodes;
}

/** Reads a managedFields entry's `fieldsV1` into the set of paths it owns; anything but an object is the empty set. */
export function parseFieldsV1(fieldsV1: unknown): FieldSet {
  const root = buildNode(isPlainObject(fieldsV1) ? fieldsV1 : {});
  // The root is never a field of its own, even when the trie is `{}`.
  root.member = false;
  root.leaf = false;
  const at = (path: FieldPath): TrieNode | undefined => {
    const nodes = descend(root, path);
    return nodes.length === path.length + 1 ? nodes.at(-1) : undefined;
  };
  const owns = (path: FieldPath): boolean => {
    const nodes = descend(root, path);
    if (nodes.length === path.length + 1) return nodes.at(-1)?.member === true;
    return nodes.slice(1).some((n) => n.leaf);
  };
  return {
    paths() {
      const out: FieldPath[] = [];
      const walk = (node: TrieNode, path: FieldPath): void => {
        if (node.member) out.push(path);
        for (const { element, node: child } of node.children.values()) walk(child, [...path, element]);
      };
      walk(root, []);
      return out;
    },
    has: (path) => at(path)?.member === true,
    owns,
    holdsUnder: (path) => owns(path) || (path.length > 0 && at(path) !== undefined),
    childrenAt(path) {
      const node = at(path);
      if (node) return [...node.children.values()].map((c) => c.element);
      return owns(path) ? [] : undefined;
    },
  };
}
