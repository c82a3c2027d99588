import type { Environment } from "../config/ferry-config.js";
import { describeRef, type ObjectRef } from "../kube/object-ref.js";
import type { ReleaseResult } from "../release/release-environment.js";

/** How one environment ended in a deploy job. */
export type EnvironmentOutcome =
  | { env: Environment; kind: "released"; sha: string; result: ReleaseResult }
  | { env: Environment; kind: "already-released"; sha: string }
  | { env: Environment; kind: "failed"; sha: string; error: string };

/** The commit status context of an environment's deploys. */
export function deployContext(env: string): string {
  return `ferry/deploy/${env}`;
}

/** The first 7 characters of a commit sha. */
export function short(sha: string): string {
  return sha.slice(0, 7);
}

/** `+2 ~1 −1` with the unchanged count: the status line of a release. */
export function releaseSummary(result: ReleaseResult): string {
  return `+${result.created.length} ~${result.configured.length} −${result.pruned.length} (${result.unchanged} unchanged)`;
}

/** The first line of an error, as a status description holds it. */
export function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}

/** The hidden marker that finds a merged commit's result comment again, so a retried job edits it rather than posting twice. */
export function resultMarker(sha: string): string {
  return `<!-- ferry:release:${sha} -->`;
}

const list = (refs: ObjectRef[]) => refs.map((r) => `\`${describeRef(r)}\``).join(", ");

/** The result comment on a merged change: per environment what was created, configured, unchanged and pruned, or the error. */
export function resultComment(mergedSha: string, outcomes: EnvironmentOutcome[]): string {
  const lines = [resultMarker(mergedSha), `### Ferry release · \`${short(mergedSha)}\``, "", "| environment | cluster | result | + | ~ | − | unchanged |", "| --- | --- | --- | ---: | ---: | ---: | ---: |"];
  for (const o of outcomes) {
    if (o.kind === "released") {
      const r = o.result;
      lines.push(`| ${o.env.name} | ${o.env.cluster} | ✅ deployed \`${short(o.sha)}\` | ${r.created.length} | ${r.configured.length} | ${r.pruned.length} | ${r.unchanged} |`);
    } else if (o.kind === "already-released") {
      lines.push(`| ${o.env.name} | ${o.env.cluster} | ✅ included in release \`${short(o.sha)}\` | | | | |`);
    } else {
      lines.push(`| ${o.env.name} | ${o.env.cluster} | ❌ failed at \`${short(o.sha)}\` | | | | |`);
    }
  }
  for (const o of outcomes) {
    if (o.kind === "released") {
      const r = o.result;
      const parts = [
        r.created.length ? `- **created**: ${list(r.created)}` : "",
        r.configured.length ? `- **configured**: ${list(r.configured)}` : "",
        r.pruned.length ? `- **pruned**: ${list(r.pruned)}` : "",
      ].filter(Boolean);
      if (parts.length) lines.push("", `<details><summary>${o.env.name}: what changed</summary>`, "", ...parts, "", "</details>");
    } else if (o.kind === "failed") {
      lines.push("", `**${o.env.name} failed**; the cluster was not changed unless the error says so:`, "", "```", o.error, "```");
    }
  }
  if (outcomes.some((o) => o.kind === "already-released" && o.sha !== mergedSha)) {
    lines.push("", `<sub>A newer commit was already on the branch; it was released with these changes included.</sub>`);
  }
  return lines.join("\n");
}
