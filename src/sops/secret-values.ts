/** Values shorter than this are not masked in text: they would match ordinary words and numbers. */
export const MIN_SECRET_LENGTH = 4;

/** What a masked value is replaced with. */
export const HIDDEN_VALUE = "(hidden)";

/**
 * The forms a decrypted value can be printed in, longest first: itself, its base64 (as a Secret's
 * `data` or a ConfigMap's `binaryData` holds it), and each line of a value of several lines (a diff
 * and a YAML block scalar show them apart). Forms shorter than {@link MIN_SECRET_LENGTH} are left out.
 */
export function secretForms(values: Iterable<string>): string[] {
  const forms = new Set<string>();
  for (const value of values) {
    for (const form of [value, Buffer.from(value, "utf8").toString("base64")]) forms.add(form);
    if (value.includes("\n")) for (const line of value.split("\n")) forms.add(line.trim());
  }
  return [...forms]
    .filter((f) => f.length >= MIN_SECRET_LENGTH)
    .sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
}

/** `text` with every form in `forms` (from {@link secretForms}) replaced by `(hidden)`. */
export function maskText(text: string, forms: readonly string[]): string {
  let out = text;
  for (const form of forms) if (out.includes(form)) out = out.split(form).join(HIDDEN_VALUE);
  return out;
}

/** Whether `text` holds any of `forms`. */
export function holdsSecret(text: string, forms: readonly string[]): boolean {
  return forms.some((form) => text.includes(form));
}
