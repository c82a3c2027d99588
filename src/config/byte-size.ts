import { z } from "zod";

/** Binary suffixes a size may use, as Kubernetes writes memory (`512Mi`). */
const SIZE_UNITS: Record<string, number> = { "": 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 };

/** Bytes in a size written `512Mi`, `1Gi`, `64Ki` or a bare number of bytes; NaN for text that is not one. */
export function byteSize(text: string): number {
  const match = /^(\d+)(Ki|Mi|Gi)?$/.exec(text);
  return match ? Number(match[1]) * (SIZE_UNITS[match[2] ?? ""] ?? Number.NaN) : Number.NaN;
}

/** A size as people write memory (`512Mi`, `1Gi`, `0`), at most `max` (written like one). */
export function byteSizeSchema(max: string) {
  const maxBytes = byteSize(max);
  return z.string().superRefine((text, ctx) => {
    if (Number.isNaN(byteSize(text)))
      ctx.addIssue({ code: "custom", message: "must be a size such as 512Mi or 1Gi (bytes, Ki, Mi or Gi)" });
    else if (byteSize(text) > maxBytes) ctx.addIssue({ code: "custom", message: `must be at most ${max}` });
  });
}
