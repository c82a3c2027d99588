import { objectCount } from "./audit-objects.js";
import type { AuditRecord } from "./audit-record.js";

/** `+2 ~1 −0` of a record's objects, empty when it has none. */
export function changeCounts(record: AuditRecord): string {
  const o = record.objects;
  if (o === undefined) return "";
  return `+${objectCount(o, "created")} ~${objectCount(o, "configured")} −${objectCount(o, "pruned")}`;
}

/**
 * Records as the table `ferry history` prints, newest first: time (UTC), environment, cluster,
 * action, outcome, commit, who, change, `+ ~ −`, then the reason. Columns are padded to the widest
 * value, so the table reads in a terminal and splits on runs of spaces.
 */
export function historyTable(records: AuditRecord[]): string {
  const header = [
    "FINISHED (UTC)",
    "ENV",
    "CLUSTER",
    "ACTION",
    "OUTCOME",
    "COMMIT",
    "WHO",
    "CHANGE",
    "OBJECTS",
    "REASON",
  ];
  const rows = records.map((r) => [
    r.finishedAt.replace("T", " ").replace(/\.\d+Z$/, "Z"),
    r.environment,
    r.cluster ?? "-",
    r.action,
    r.outcome,
    r.sha?.slice(0, 7) ?? "-",
    r.actor,
    r.change === undefined ? "-" : `#${r.change}`,
    changeCounts(r) || "-",
    (r.reason ?? "").split("\n")[0] ?? "",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}
