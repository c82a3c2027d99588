import { parseAllDocuments } from "yaml";
import type { SopsFormat } from "./find-sops-files.js";

/** A value sops encrypted: `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`. */
export const ENCRYPTED_VALUE = /ENC\[AES256_GCM,data:/;

/**
 * The plaintext of every value that was encrypted in a SOPS file: the leaves of `decrypted` whose
 * counterpart in `encrypted` is an `ENC[…]` value (a value left in clear by `encrypted_regex` or
 * `unencrypted_suffix` is not a secret), as text. sops' own metadata is skipped.
 */
export function decryptedValues(encrypted: string, decrypted: string, format: SopsFormat): string[] {
  if (format === "dotenv") {
    const before = dotenv(encrypted);
    const values: string[] = [];
    for (const [key, value] of dotenv(decrypted)) if (ENCRYPTED_VALUE.test(before.get(key) ?? "")) values.push(value);
    return values;
  }
  const before = parseAllDocuments(encrypted);
  const after = parseAllDocuments(decrypted);
  if (!Array.isArray(before) || !Array.isArray(after)) return [];
  const values: string[] = [];
  const walk = (enc: unknown, dec: unknown): void => {
    if (typeof enc === "string") {
      if (!ENCRYPTED_VALUE.test(enc)) return;
      if (typeof dec === "string") values.push(dec);
      else if (typeof dec === "number" || typeof dec === "boolean") values.push(String(dec));
      return;
    }
    if (Array.isArray(enc) && Array.isArray(dec)) enc.forEach((item, i) => walk(item, dec[i]));
    else if (isMap(enc) && isMap(dec)) for (const [key, value] of Object.entries(enc)) walk(value, dec[key]);
  };
  before.forEach((doc, i) => {
    const enc = doc.toJS() as unknown;
    const dec = after[i]?.toJS() as unknown;
    if (!isMap(enc) || !isMap(dec)) return walk(enc, dec);
    for (const [key, value] of Object.entries(enc)) if (key !== "sops") walk(value, dec[key]);
  });
  return values;
}

/** A dotenv file's `KEY=value` lines (comments and blank lines left out), as sops writes them. */
function dotenv(text: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line.trim() === "" || line.trimStart().startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq > 0) entries.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return entries;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
