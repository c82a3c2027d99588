import type { DriftedField } from "../drift/types.js";
import { clip } from "./clip.js";
import { short } from "./deploy-report.js";
import type { ClusterVerdict } from "./drift-status.js";

/** The hidden marker by which the environment's drift issue is found again. */
export function driftIssueMarker(environment: string): string {
  return `<!-- ferry:drift-issue:${environment} -->`;
}

/** The drift issue's title. */
export function driftIssueTitle(environment: string): string {
  return `Drift in ${environment}`;
}

/** One drifted object as an issue lists it: kept with a cluster's verdict. */
export interface DriftedObjectView {
  /** `Deployment shop/web`. */
  object: string;
  kind: "gone" | "taken-over" | "drifted";
  /** The inventory that took it over. */
  by?: string;
  fields?: DriftedField[];
}

/** Objects, and fields per object, an issue lists per cluster; the rest are counted. */
const MAX_OBJECTS = 30;
const MAX_FIELDS = 10;

/** A value in a table cell: as code, without breaking the table. */
function cell(text: string | undefined): string {
  if (text === undefined || text === "") return "";
  return `\`${clip(text, 80).replace(/`/g, "'").replace(/\|/g, "\\|").replace(/\n/g, " ")}\``;
}

/** Rows of one drifted object. */
function rows(view: DriftedObjectView): string[] {
  const object = cell(view.object);
  if (view.kind === "gone") return [`| ${object} | *deleted* | | | | |`];
  if (view.kind === "taken-over") return [`| ${object} | *taken over by ${cell(view.by)}* | | | | |`];
  const fields = view.fields ?? [];
  const listed = fields
    .slice(0, MAX_FIELDS)
    .map(
      (f) =>
        `| ${object} | ${cell(f.path)} | ${cell(f.desired)} | ${f.live === undefined ? "*removed*" : cell(f.live)} | ${f.manager === undefined ? "" : `${cell(f.manager)}${f.operation ? ` (${f.operation})` : ""}`} | ${f.time ?? ""} |`,
    );
  if (fields.length > MAX_FIELDS)
    listed.push(`| ${object} | *and ${fields.length - MAX_FIELDS} more fields* | | | | |`);
  return listed;
}

/**
 * The body of the environment's drift issue: per drifted cluster, each object's drifted fields with
 * what Ferry applied, what the cluster holds, who changed it and when (from managedFields), then how to
 * heal. It holds no check time, so it is edited only when the drift itself changes. Cut to `max`.
 */
export function driftIssueBody(environment: string, branch: string, verdicts: ClusterVerdict[], max: number): string {
  const drifted = verdicts.filter((v) => v.drifted > 0).sort((a, b) => a.cluster.localeCompare(b.cluster));
  const lines = [
    driftIssueMarker(environment),
    `Ferry found objects of **${environment}** that no longer hold what its last release applied: a field Ferry set was changed by another field manager, or an object was deleted or taken over.`,
    "",
  ];
  for (const v of drifted) {
    lines.push(
      `#### ${v.cluster} · released \`${short(v.sha)}\` · ${v.drifted} ${v.drifted === 1 ? "object" : "objects"} drifted`,
      "",
    );
    lines.push("| object | field | applied | live | changed by | when |", "| --- | --- | --- | --- | --- | --- |");
    const objects = v.objects ?? [];
    for (const view of objects.slice(0, MAX_OBJECTS)) lines.push(...rows(view));
    if (v.drifted > Math.min(objects.length, MAX_OBJECTS))
      lines.push(`| *and ${v.drifted - Math.min(objects.length, MAX_OBJECTS)} more objects* | | | | | |`);
    lines.push("");
  }
  lines.push(
    "**To heal**: merge a change to `" +
      branch +
      "` that sets these fields as you want them, or comment `/ferry heal " +
      environment +
      "` on a pull request into `" +
      branch +
      "` (write access) to put back what the last release applied.",
    "Objects annotated `ferry.dev/drift: ignore` are never reported. This issue is edited as the drift changes and closed once the environment is back in sync.",
  );
  return clip(lines.join("\n"), max);
}

/** The comment closing the drift issue. */
export function driftClosedComment(latest: ClusterVerdict): string {
  const how =
    latest.healed !== undefined && latest.healed > 0
      ? `healed ${latest.healed} ${latest.healed === 1 ? "object" : "objects"} on ${latest.cluster}; `
      : "";
  return `Back in sync: ${how}every cluster holds what its last release applied (checked ${new Date(latest.checkedAt).toISOString().slice(0, 16).replace("T", " ")} UTC).`;
}

/** The comment closing an environment's drift issue once drift checks were turned off for it. */
export function driftOffComment(environment: string): string {
  return `Drift checks are off for ${environment} (\`reconcile.drift: ignore\` in \`.ferry.yml\`): this issue is closed, and drift is no longer looked for. Catch-up deploys still run.`;
}
