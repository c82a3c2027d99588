function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** True when every item is an object with a string `name`: a list whose items are told apart by name (containers, env, ports...). */
function namedItems(list: unknown[]): list is Array<Record<string, unknown> & { name: string }> {
  return list.length > 0 && list.every((item) => isPlainObject(item) && typeof item.name === "string");
}

/**
 * The live object cut to the shape of what a manifest sets: each field the manifest sets, with
 * the live value; items of a list of named objects matched by name, of other lists of objects by
 * position; lists of plain values whole. What a plan diffs against the manifest when the server
 * cannot dry-run it: it shows fields the manifest changes or adds, not the server's defaults (which
 * the manifest does not set), and not fields a manifest stopped setting.
 */
export function projectLive(live: unknown, desired: unknown): unknown {
  if (isPlainObject(desired) && isPlainObject(live)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(desired)) if (key in live) out[key] = projectLive(live[key], desired[key]);
    return out;
  }
  if (Array.isArray(desired) && Array.isArray(live)) {
    if (namedItems(desired) && namedItems(live)) {
      const byName = new Map(live.map((item) => [item.name, item]));
      return desired.flatMap((item) => (byName.has(item.name) ? [projectLive(byName.get(item.name), item)] : []));
    }
    if (desired.some(isPlainObject))
      return live.slice(0, desired.length).map((item, i) => projectLive(item, desired[i]));
  }
  return live;
}

/**
 * A Secret manifest as the server stores it: `stringData` folded into `data`, base64-encoded, as
 * the API server does on every write; other objects unchanged.
 */
export function asStored(object: Record<string, unknown>): Record<string, unknown> {
  if (object.kind !== "Secret" || !isPlainObject(object.stringData)) return object;
  const { stringData, ...rest } = object;
  const data: Record<string, unknown> = { ...(isPlainObject(rest.data) ? rest.data : {}) };
  for (const [key, value] of Object.entries(stringData)) data[key] = Buffer.from(String(value)).toString("base64");
  return { ...rest, data };
}
