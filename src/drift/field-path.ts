/**
 * One step into an object, as managedFields name it: a field of a map (`f:replicas`), the item of an
 * associative list whose key fields hold these values (`k:{"name":"web"}`), the item of a set with
 * this value (`v:"example.com/finalizer"`), or an item by position (`i:0`).
 */
export type PathElement = { field: string } | { key: Record<string, unknown> } | { value: unknown } | { index: number };

/** A path from the root of an object to one of its fields. */
export type FieldPath = PathElement[];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** JSON with object keys sorted, so equal values give equal text whatever order their keys came in. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (isPlainObject(value)) {
    const entries = Object.keys(value)
      .sort()
      .filter((k) => value[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * Reads one member name of a fieldsV1 trie (`f:name`, `k:{…}`, `v:…`, `i:3`) as a path element;
 * undefined for `.` (the node itself, not a step) and for anything malformed.
 */
export function parsePathElement(text: string): PathElement | undefined {
  const body = text.slice(2);
  switch (text.slice(0, 2)) {
    case "f:":
      return { field: body };
    case "i:": {
      const index = Number(body);
      return Number.isInteger(index) && index >= 0 ? { index } : undefined;
    }
    case "k:":
    case "v:": {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        return undefined;
      }
      if (text.startsWith("v:")) return { value: parsed };
      return isPlainObject(parsed) ? { key: parsed } : undefined;
    }
    default:
      return undefined;
  }
}

/** The same element always gives the same text (key fields in sorted order), so elements can key a Map. */
export function pathElementId(element: PathElement): string {
  if ("field" in element) return `f:${element.field}`;
  if ("key" in element) return `k:${canonicalJson(element.key)}`;
  if ("value" in element) return `v:${canonicalJson(element.value)}`;
  return `i:${element.index}`;
}

/** A whole path as one string, for Maps and Sets of paths. */
export function fieldPathId(path: FieldPath): string {
  return path.map(pathElementId).join("\n");
}

/** A plain field name reads as `.name`; anything else (`app.kubernetes.io/name`) as `["…"]`. */
const PLAIN_NAME = /^[A-Za-z_$][\w$-]*$/;

/** A key value inside `[name=web]`: strings bare unless they hold the brackets' own syntax, the rest as JSON. */
function keyValue(value: unknown): string {
  return typeof value === "string" && /^[^\s,=[\]"]+$/.test(value) ? value : JSON.stringify(value);
}

/**
 * How people read a path: `spec.replicas`, `metadata.labels["app.kubernetes.io/name"]`,
 * `spec.template.spec.containers[name=web].env[name=LOG_LEVEL].value`, a set item as
 * `finalizers[="example.com/cleanup"]`, an item by position as `args[0]`.
 */
export function formatFieldPath(path: FieldPath): string {
  let out = "";
  for (const element of path) {
    if ("field" in element) {
      out += PLAIN_NAME.test(element.field)
        ? `${out ? "." : ""}${element.field}`
        : `[${JSON.stringify(element.field)}]`;
    } else if ("key" in element) {
      out += `[${Object.entries(element.key)
        .map(([name, value]) => `${name}=${keyValue(value)}`)
        .join(",")}]`;
    } else if ("value" in element) {
      out += `[=${JSON.stringify(element.value)}]`;
    } else {
      out += `[${element.index}]`;
    }
  }
  return out;
}
