import { z } from "zod";

/** Units a duration may use, in milliseconds. */
const DURATION_UNITS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 };

/** Milliseconds in a duration string (`1m30s` → 90000); 0 for text that is not one. */
export function durationMs(text: string): number {
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)([dhms])/g))
    total += Number(amount) * (DURATION_UNITS[unit ?? ""] ?? 0);
  return total;
}

/** A duration as people write it (`30s`, `5m`, `1h`, `1m30s`, `400d`), more than 0s and at most `max` (written like one, e.g. `1h`). */
export function durationSchema(max: string) {
  const maxMs = durationMs(max);
  return z.string().superRefine((text, ctx) => {
    if (!/^(?=\d)(\d+d)?(\d+h)?(\d+m)?(\d+s)?$/.test(text))
      ctx.addIssue({ code: "custom", message: "must be a duration such as 30s, 5m or 1h30m" });
    else if (durationMs(text) === 0 || durationMs(text) > maxMs)
      ctx.addIssue({ code: "custom", message: `must be more than 0s and at most ${max}` });
  });
}
