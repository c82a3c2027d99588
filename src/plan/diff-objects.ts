import { structuredPatch, type StructuredPatchHunk } from "diff";
import { stringify } from "yaml";
import { maskSecretPair, type PlanObject } from "./mask-secret.js";
import { maskValuePair } from "./mask-values.js";
import { normalizeObject } from "./normalize-object.js";

/** Unchanged lines shown around each change. */
const CONTEXT = 3;

/**
 * Work allowed for the line diff, in lines × edits: Myers' algorithm costs about that much, so a
 * huge object rewritten end to end falls back to one replaced block instead of taking quadratic time.
 */
const DIFF_BUDGET = 10_000_000;

/** Both sides as a plan shows them: masked (Secrets, then decrypted values anywhere), then normalised (which also sorts the masked keys). */
function prepare(
  live: PlanObject | undefined,
  next: PlanObject | undefined,
  decrypted: readonly string[] = [],
): [PlanObject | undefined, PlanObject | undefined] {
  const [maskedLive, maskedNext] = maskValuePair(...maskSecretPair(live, next), decrypted);
  return [maskedLive && normalizeObject(maskedLive), maskedNext && normalizeObject(maskedNext)];
}

function toLines(object: PlanObject): string[] {
  const text = stringify(object, { lineWidth: 0, aliasDuplicateObjects: false });
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/** One hunk replacing everything between the common first and last lines: the fallback when a real diff would cost too much. */
function replacementHunk(before: string[], after: string[]): StructuredPatchHunk {
  let head = 0;
  while (head < before.length && head < after.length && before[head] === after[head]) head++;
  let tail = 0;
  while (
    tail < before.length - head &&
    tail < after.length - head &&
    before[before.length - 1 - tail] === after[after.length - 1 - tail]
  )
    tail++;
  const start = Math.max(0, head - CONTEXT);
  const lead = before.slice(start, head);
  const trail = before.slice(before.length - tail, Math.min(before.length, before.length - tail + CONTEXT));
  const lines = [
    ...lead.map((l) => ` ${l}`),
    ...before.slice(head, before.length - tail).map((l) => `-${l}`),
    ...after.slice(head, after.length - tail).map((l) => `+${l}`),
    ...trail.map((l) => ` ${l}`),
  ];
  const oldLines = lead.length + (before.length - tail - head) + trail.length;
  const newLines = lead.length + (after.length - tail - head) + trail.length;
  return { oldStart: start + 1, oldLines, newStart: start + 1, newLines, lines };
}

function hunks(before: string[], after: string[]): StructuredPatchHunk[] {
  const size = before.length + after.length;
  const maxEditLength = Math.max(100, Math.floor(DIFF_BUDGET / size));
  const patch = structuredPatch(
    "live",
    "next",
    `${before.join("\n")}\n`,
    `${after.join("\n")}\n`,
    undefined,
    undefined,
    { context: CONTEXT, maxEditLength },
  );
  return patch ? patch.hunks : [replacementHunk(before, after)];
}

/**
 * A unified diff of two objects' normalised YAML (live → next) without file headers, Secret values
 * and `decrypted` (forms of SOPS-decrypted values, see `secretForms`) masked: hunk lines only, with
 * an `@@` header between hunks. A create is all `+`, a delete all `-`, and equal objects give "".
 */
export function diffObjects(
  live: PlanObject | undefined,
  next: PlanObject | undefined,
  decrypted: readonly string[] = [],
): string {
  const [before, after] = prepare(live, next, decrypted);
  if (!before && !after) return "";
  if (!before)
    return toLines(after as PlanObject)
      .map((l) => `+${l}`)
      .join("\n");
  if (!after)
    return toLines(before)
      .map((l) => `-${l}`)
      .join("\n");
  if (JSON.stringify(before) === JSON.stringify(after)) return "";
  const out: string[] = [];
  hunks(toLines(before), toLines(after)).forEach((hunk, i) => {
    if (i > 0) out.push(`@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`);
    for (const line of hunk.lines) if (!line.startsWith("\\")) out.push(line);
  });
  return out.join("\n");
}

/** Whether two objects are the same once normalised and masked: what a plan counts as unchanged. */
export function objectsEqual(live: PlanObject | undefined, next: PlanObject | undefined): boolean {
  const [before, after] = prepare(live, next);
  if (!before || !after) return before === after;
  return JSON.stringify(before) === JSON.stringify(after);
}
