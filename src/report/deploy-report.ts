import type { ClusterOutcome, NotDryRun, ReleaseChanges, RollbackOutcome, SuspendedObject } from "../domain/release.js";
import { describeRef, type ObjectRef } from "../kube/object-ref.js";

/** How a one-cluster environment's release ended, as its result comment row shows it. */
export type EnvironmentOutcome = ClusterOutcome & { env: { name: string; cluster: string } };

/** The commit status context of an environment's deploys. */
export function deployContext(env: string): string {
  return `ferry/deploy/${env}`;
}

/** The first 7 characters of a commit sha. */
export function short(sha: string): string {
  return sha.slice(0, 7);
}

/**
 * How a release that a reconcile queued is announced: no webhook came for the commit, so the reader
 * learns why it was deployed late and by whom.
 */
export function caughtUpHead(sha: string): string {
  return `deployed by reconcile: no webhook was received for ${short(sha)}`;
}

/** `+2 ~1 −1` with the unchanged count: the status line of a release. */
export function releaseSummary(result: ReleaseChanges): string {
  return `+${result.created.length} ~${result.configured.length} −${result.pruned.length} (${result.unchanged} unchanged)`;
}

/**
 * The success status of a release: `deployed: +2 ~1 −0 (4 unchanged)`, then what it left suspended
 * (`; suspended: Deployment shop/web and 1 more`), which succeeds because pausing is a choice, not a
 * fault, but should not pass unseen. `head` words whose release it was.
 */
export function releasedDescription(
  result: ReleaseChanges,
  suspended: SuspendedObject[] = [],
  head = "deployed",
): string {
  const [first] = suspended;
  const held = first
    ? `; suspended: ${describeRef(first.ref)}${suspended.length > 1 ? ` and ${suspended.length - 1} more` : ""}`
    : "";
  return `${head}: ${releaseSummary(result)}${held}`;
}

/** The first line of an error, as a status description holds it. */
export function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}

/**
 * The status of a commit whose release a newer one overtook while it waited for health. Success,
 * as Flux reports such a revision superseded rather than failed: the commit's changes are in the
 * newer release, whose own status carries the verdict, and a required check must not turn red (or
 * stay pending forever) for a commit that did nothing wrong.
 */
export function supersededDescription(by: string): string {
  return `superseded by ${short(by)}: its release includes this commit`;
}

/** The failure status of a release that did not become healthy, with how its rollback went, if one ran. */
export function failureDescription(error: string, rollback?: RollbackOutcome): string {
  const failure = firstLine(error);
  if (!rollback) return failure;
  const target = short(rollback.sha ?? "");
  switch (rollback.state) {
    case "success":
      return `rolled back to ${target}: ${failure}`;
    case "failure":
      return `rollback to ${target} failed too: ${failure}`;
    case "superseded":
      return `rollback to ${target} superseded: ${failure}`;
    case "none":
      return `not rolled back (no earlier successful release): ${failure}`;
  }
}

/** The hidden marker that finds a merged commit's result comment again, so a retried job edits it rather than posting twice. */
export function resultMarker(sha: string): string {
  return `<!-- ferry:release:${sha} -->`;
}

const list = (refs: ObjectRef[]) => refs.map((r) => `\`${describeRef(r)}\``).join(", ");

/** Objects applied without a dry-run, each with the webhook that does not support one. */
const notDryRunList = (objects: NotDryRun[]) =>
  objects
    .map((n) => `\`${describeRef(n.ref)}\` (admission webhook \`${n.webhook}\` does not support dry run)`)
    .join(", ");

/** The result comment on a merged change: per environment what was created, configured, unchanged and pruned, or the error, and how a rollback went. */
export function resultComment(mergedSha: string, outcomes: EnvironmentOutcome[], sections: string[] = []): string {
  const lines = [
    resultMarker(mergedSha),
    `### Ferry release · \`${short(mergedSha)}\``,
    "",
    "| environment | cluster | result | + | ~ | − | unchanged |",
    "| --- | --- | --- | ---: | ---: | ---: | ---: |",
  ];
  const row = (o: EnvironmentOutcome, result: string, r?: ReleaseChanges) =>
    `| ${o.env.name} | ${o.env.cluster} | ${result} | ${r ? `${r.created.length} | ${r.configured.length} | ${r.pruned.length} | ${r.unchanged}` : "| | |"} |`;
  for (const o of outcomes) {
    if (o.kind === "released")
      lines.push(
        row(
          o,
          `✅ deployed \`${short(o.sha)}\`${o.suspended?.length ? `, ⏸️ ${o.suspended.length} suspended` : ""}`,
          o.result,
        ),
      );
    else if (o.kind === "already-released") lines.push(row(o, `✅ included in release \`${short(o.sha)}\``));
    else if (o.kind === "superseded")
      lines.push(
        row(
          o,
          o.result
            ? `⏭️ applied \`${short(o.sha)}\`, superseded by \`${short(o.by)}\``
            : `⏭️ superseded by \`${short(o.by)}\``,
          o.result,
        ),
      );
    else if (o.kind === "skipped") lines.push(row(o, `⏸️ not released: ${o.reason}`));
    else if (o.kind === "unreachable") lines.push(row(o, `📡 unreachable at \`${short(o.sha)}\``));
    else {
      lines.push(
        row(o, o.result ? `❌ not healthy at \`${short(o.sha)}\`` : `❌ failed at \`${short(o.sha)}\``, o.result),
      );
      if (o.rollback) lines.push(row(o, rollbackCell(o.rollback), o.rollback.result));
    }
  }
  for (const o of outcomes) {
    if ((o.kind === "released" || o.kind === "superseded") && o.result) {
      const r = o.result;
      const parts = [
        r.created.length ? `- **created**: ${list(r.created)}` : "",
        r.configured.length ? `- **configured**: ${list(r.configured)}` : "",
        r.pruned.length ? `- **pruned**: ${list(r.pruned)}` : "",
      ].filter(Boolean);
      if (parts.length)
        lines.push("", `<details><summary>${o.env.name}: what changed</summary>`, "", ...parts, "", "</details>");
      if (o.kind === "released" && o.suspended?.length) {
        lines.push(
          "",
          `**${o.env.name}** holds suspended objects, which do nothing until someone resumes them:`,
          "",
          ...o.suspended.map((h) => `- \`${describeRef(h.ref)}\`: ${h.message}`),
        );
      }
      if (r.notDryRun?.length)
        lines.push(
          "",
          `⚠️ **${o.env.name}**: applied without a dry-run (validation.unsupportedDryRun: skip): ${notDryRunList(r.notDryRun)}`,
        );
      if (o.kind === "superseded")
        lines.push(
          "",
          `**${o.env.name}**: a newer release (\`${short(o.by)}\`) took the environment while this one waited for its workloads; its status tells how it went.`,
        );
    } else if (o.kind === "failed") {
      const what = o.result
        ? `**${o.env.name}** was applied but did not become healthy:`
        : `**${o.env.name} failed**; the cluster was not changed unless the error says so:`;
      lines.push("", what, "", "```", o.error, "```");
      if (o.rollback) lines.push(...rollbackSection(o.env.name, o.rollback));
    } else if (o.kind === "unreachable") {
      lines.push("", `**${o.env.name} is unreachable**: nothing is known of the cluster.`, "", "```", o.error, "```");
    }
  }
  if (outcomes.some((o) => o.kind === "already-released" && o.sha !== mergedSha)) {
    lines.push("", `<sub>A newer commit was already on the branch; it was released with these changes included.</sub>`);
  }
  for (const section of sections) lines.push("", section);
  return lines.join("\n");
}

function rollbackCell(rollback: RollbackOutcome): string {
  const target = `\`${short(rollback.sha ?? "")}\``;
  switch (rollback.state) {
    case "success":
      return `↩️ rolled back to ${target}`;
    case "failure":
      return `❌ rollback to ${target} failed`;
    case "superseded":
      return `⏭️ rollback to ${target} superseded`;
    case "none":
      return "⚠️ not rolled back: no earlier successful release";
  }
}

function rollbackSection(env: string, rollback: RollbackOutcome): string[] {
  const target = `\`${short(rollback.sha ?? "")}\``;
  switch (rollback.state) {
    case "success":
      return ["", `**${env}** was rolled back to ${target}, the last successful release, and is healthy again.`];
    case "failure":
      return ["", `**${env}**: the rollback to ${target} failed too:`, "", "```", rollback.message, "```"];
    case "superseded":
      return ["", `**${env}**: the rollback to ${target} was applied, then a newer release took the environment.`];
    case "none":
      return ["", `**${env}** was left as applied: it has no earlier successful release to roll back to.`];
  }
}
