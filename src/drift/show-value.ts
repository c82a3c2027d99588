import { clip } from "../report/clip.js";

/** Longest a value is shown: enough for an image reference or a short map, not for a whole container. */
export const VALUE_LENGTH = 60;

/** A value as short, one-line JSON (`3`, `"web:1.4.2"`, `{"cpu":"1"}`), clipped to `max` characters with `…`. */
export function showValue(value: unknown, max = VALUE_LENGTH): string {
  return clip(JSON.stringify(value) ?? "null", max);
}
