import { describeRef, type ObjectRef } from "../kube/object-ref.js";
import { clip } from "../report/clip.js";
import type { Drift } from "./types.js";

/** One object and how it stands, as `detectDrift` judged it (undefined: in sync). */
export interface ObjectDrift {
  /** Which object. */
  ref: ObjectRef;
  /** What `detectDrift` said of it. */
  drift: Drift | undefined;
}

/** A status line stays under 140 characters. */
export const SUMMARY_LENGTH = 139;

/** Each value in the line is cut to this, so that one long image tag leaves room for who changed it... */
const VALUE_LENGTH = 24;
/** ...and down to this when the field's path needs the room. */
const MIN_VALUE_LENGTH = 10;
/** The least of a path kept when even short values leave no room: its last field's name. */
const MIN_PATH_LENGTH = 16;

/** A field path too long for the line keeps its end, where the field's name is. */
function clipStart(text: string, max: number): string {
  if (text.length <= max) return text;
  return max <= 1 ? "…" : `…${text.slice(text.length - (max - 1))}`;
}

/**
 * One line for a status: how many objects drifted (gone and taken-over ones count, ignored ones do
 * not) and the first one's first change, e.g. `2 objects drifted: Deployment shop/web spec.replicas
 * 3→5 by kubectl-edit`; undefined when nothing drifted. Under 140 characters: values are cut first,
 * then the field path loses its start, then the line its end.
 */
export function summarizeDrift(objects: ObjectDrift[]): string | undefined {
  const drifted = objects.filter(
    (o): o is { ref: ObjectRef; drift: Drift } => o.drift !== undefined && o.drift.kind !== "ignored",
  );
  const first = drifted[0];
  if (!first) return undefined;
  const head = `${drifted.length} ${drifted.length === 1 ? "object" : "objects"} drifted: ${describeRef(first.ref)}`;
  const { drift } = first;
  if (drift.kind === "gone") return clip(`${head} deleted`, SUMMARY_LENGTH);
  if (drift.kind === "taken-over") return clip(`${head} taken over by ${drift.by}`, SUMMARY_LENGTH);
  if (drift.kind !== "drifted") return clip(head, SUMMARY_LENGTH);
  const field = drift.fields[0];
  if (!field) return clip(head, SUMMARY_LENGTH);
  // Values give way first (down to a few characters each), then the path loses its start.
  let room = 0;
  let tail = "";
  for (let length = VALUE_LENGTH; length >= MIN_VALUE_LENGTH; length--) {
    const change = `${clip(field.desired, length)}→${field.live === undefined ? "(removed)" : clip(field.live, length)}`;
    tail = ` ${change}${field.manager ? ` by ${field.manager}` : ""}`;
    room = SUMMARY_LENGTH - head.length - 1 - tail.length;
    if (room >= field.path.length) break;
  }
  return clip(`${head} ${clipStart(field.path, Math.max(room, MIN_PATH_LENGTH))}${tail}`, SUMMARY_LENGTH);
}
