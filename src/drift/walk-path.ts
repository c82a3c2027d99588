import { canonicalJson, type FieldPath, type PathElement } from "./field-path.js";

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The item a step names in a list: by its key fields' values, by its own value, or by position. */
function listItem(list: unknown[], element: Exclude<PathElement, { field: string }>): { value: unknown } | undefined {
  if ("index" in element) return element.index < list.length ? { value: list[element.index] } : undefined;
  if ("value" in element) {
    const wanted = canonicalJson(element.value);
    const found = list.find((item) => canonicalJson(item) === wanted);
    return found === undefined ? undefined : { value: found };
  }
  const keys = Object.entries(element.key).map(([name, value]) => [name, canonicalJson(value)] as const);
  const found = list.find(
    (item) => isPlainObject(item) && keys.every(([name, value]) => name in item && canonicalJson(item[name]) === value),
  );
  return found === undefined ? undefined : { value: found };
}

/**
 * The value at `path` in an object (live or desired), or undefined when the path leads nowhere. A
 * `k:` step finds the list item whose key fields all hold the key's values (`containers` by `name`,
 * `ports` by `containerPort` and `protocol`), a `v:` step the set item equal to its value. The answer
 * is wrapped so that a field holding `null` is told apart from a missing one.
 */
export function walkPath(object: unknown, path: FieldPath): { value: unknown } | undefined {
  let here: unknown = object;
  for (const element of path) {
    if ("field" in element) {
      if (!isPlainObject(here) || !Object.hasOwn(here, element.field)) return undefined;
      here = here[element.field];
      continue;
    }
    if (!Array.isArray(here)) return undefined;
    const item = listItem(here, element);
    if (!item) return undefined;
    here = item.value;
  }
  return { value: here };
}
