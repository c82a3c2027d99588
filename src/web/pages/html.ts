/** HTML text that is already safe: markup built by {@link html}, never a raw value. */
export class SafeHtml {
  /** Wraps markup known to be escaped. */
  constructor(readonly text: string) {}

  /** The markup. */
  toString(): string {
    return this.text;
  }
}

/** Escapes `&`, `<`, `>`, `"` and `'`, so a value is text in an element or an attribute. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** A value a template interpolates: escaped text, markup, nothing, or a list of them. */
export type HtmlValue = string | number | SafeHtml | undefined | null | false | readonly HtmlValue[];

/**
 * A template tag: every interpolated value is HTML-escaped unless it is {@link SafeHtml} built by
 * this tag; arrays are joined; `undefined`, `null` and `false` render nothing.
 */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? "";
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? "");
  });
  return new SafeHtml(out);
}

function render(value: HtmlValue): string {
  if (value === undefined || value === null || value === false) return "";
  if (value instanceof SafeHtml) return value.text;
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(render).join("");
  return escapeHtml(String(value));
}
