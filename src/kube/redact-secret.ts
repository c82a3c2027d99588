import type { KubeObject } from "../render/types.js";

/** Values shorter than this are not scrubbed from text: they would match ordinary words. */
const MIN_VALUE_LENGTH = 3;

/** The values of a Secret in every form they could be printed in: base64 as stored, decoded, and stringData. */
function secretValues(object: KubeObject): string[] {
  if (object.kind !== "Secret") return [];
  const values: string[] = [];
  const data = (object.data ?? {}) as Record<string, unknown>;
  for (const value of Object.values(data)) {
    if (typeof value !== "string") continue;
    values.push(value, Buffer.from(value, "base64").toString("utf8"));
  }
  for (const value of Object.values((object.stringData ?? {}) as Record<string, unknown>)) {
    if (typeof value === "string") values.push(value, Buffer.from(value).toString("base64"));
  }
  return values.filter((v) => v.length >= MIN_VALUE_LENGTH).sort((a, b) => b.length - a.length);
}

/**
 * Removes a Secret's values, and `decrypted` (the forms of SOPS-decrypted values the object holds,
 * whatever its kind), from a message: an API server error may quote the invalid value.
 */
export function redactSecretValues(message: string, object: KubeObject, decrypted: string[] = []): string {
  let out = message;
  const values = [...secretValues(object), ...decrypted].sort((a, b) => b.length - a.length);
  for (const value of values) out = out.split(value).join("[redacted]");
  return out;
}
