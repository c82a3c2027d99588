import { failuresOf, type ClusterProgress, type RolloutState } from "../domain/rollout.js";
import { failureDescription } from "./deploy-report.js";
import {
  fleetStatus,
  formatDuration,
  notTouchedOf,
  releasedOf,
  waveSummaries,
  type RolloutView,
  type WaveState,
  type WaveSummary,
} from "./fleet-status.js";
import { clip } from "./clip.js";

/** Failed clusters listed by name and reason; the rest are counted and linked to the rollout page. */
export const LISTED_FAILURES = 20;

/** The longest cluster name and reason a failure line keeps; the rollout page has all of them. */
const NAME_LENGTH = 100;
const REASON_LENGTH = 240;

const ROLLOUT_ICON: Record<RolloutState, string> = {
  waiting: "⏳",
  running: "🔄",
  paused: "⏸️",
  "awaiting-approval": "✋",
  succeeded: "✅",
  failed: "❌",
  aborted: "⛔",
  superseded: "⏭️",
  blocked: "🚫",
};

const WAVE_ICON: Record<WaveState, string> = {
  waiting: "⏳",
  running: "🔄",
  done: "✅",
  halted: "❌",
  aborted: "⛔",
  superseded: "⏭️",
  "not started": "➖",
};

/**
 * Text made inert in markdown, on one line: newlines become spaces, `<`, `>` and `&` entities (no
 * HTML), and markdown's punctuation (pipes that would end a table cell, backticks, emphasis, links)
 * is backslash-escaped.
 */
export function markdownText(text: string): string {
  return text
    .replace(/\s*[\r\n]+\s*/g, " ")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/[\\`*_[\]|~#!]/g, (c) => `\\${c}`);
}

function waveRow(wave: WaveSummary): string {
  const { counts } = wave;
  const extra = [
    counts.releasing > 0 ? `${counts.releasing} releasing` : "",
    counts.unreachable > 0 ? `${counts.unreachable} unreachable` : "",
    counts.superseded > 0 ? `${counts.superseded} superseded` : "",
  ].filter(Boolean);
  const state = `${WAVE_ICON[wave.state]} ${wave.state}${extra.length > 0 ? ` (${extra.join(", ")})` : ""}`;
  const duration = wave.durationMs === undefined ? "" : formatDuration(wave.durationMs);
  return `| ${wave.plan.index + 1} · ${markdownText(clip(wave.plan.name, NAME_LENGTH))} | ${wave.total} | ${releasedOf(counts)} | ${failuresOf(counts)} | ${notTouchedOf(counts)} | ${state} | ${duration} |`;
}

/**
 * Why a cluster failed, on one line: the first line of its error and how its rollback went, in the
 * words of a single release; for an unreachable cluster, that its agent was not seen.
 */
function failureLine(view: RolloutView, c: ClusterProgress): string {
  const outcome = c.outcome;
  const reason =
    outcome?.kind === "failed"
      ? failureDescription(
          outcome.error,
          outcome.rollback && {
            state: outcome.rollback.state,
            sha: outcome.rollback.sha,
            message: outcome.rollback.message,
          },
        )
      : outcome?.kind === "unreachable"
        ? failureDescription(outcome.error)
        : c.state;
  const wave = view.rollout.waves[c.wave]?.name;
  const where = wave === undefined ? "" : ` (wave ${c.wave + 1} · ${markdownText(clip(wave, NAME_LENGTH))})`;
  return `- **${markdownText(clip(c.cluster, NAME_LENGTH))}**${where}: ${markdownText(clip(reason || "failed", REASON_LENGTH))}`;
}

/**
 * An environment's section of the result comment on a fleet rollout, rewritten as its waves go:
 * a heading with the state, the counts and a link to the rollout page; one table row per wave; then
 * the first {@link LISTED_FAILURES} failed or unreachable clusters with their reasons, the rest
 * linked (`?state=failed`, with `,unreachable` when any are). It never exceeds `maxLength`:
 * failure lines go first, then wave rows (each counted behind a link to the page), and at last the
 * heading is cut. `now` (epoch ms) times a
 * running wave and a pause.
 */
export function fleetSection(view: RolloutView, pageUrl: string, maxLength: number, now = Date.now()): string {
  const { rollout } = view;
  const status = fleetStatus(view, now);
  const heading = `#### ${ROLLOUT_ICON[rollout.state]} ${markdownText(rollout.environment)} · ${markdownText(status.description)} · [rollout page](${pageUrl})`;
  const waveRows = waveSummaries(view, now).map(waveRow);
  const failed = view.clusters.filter((c) => c.state === "failed" || c.state === "unreachable");
  const failureLines = failed.slice(0, LISTED_FAILURES).map((c) => failureLine(view, c));
  const unreachable = failed.some((c) => c.state === "unreachable");
  const failedUrl = `${pageUrl}?state=failed${unreachable ? ",unreachable" : ""}`;
  const failedWords = unreachable ? "failed or unreachable" : "failed";

  const assemble = (waves: number, failures: number): string => {
    const parts = [heading];
    // No row fits: no table at all (the heading links the page that has them).
    if (waves > 0) {
      const table = [
        "| wave | clusters | released | failed | not touched | state | duration |",
        "| --- | ---: | ---: | ---: | ---: | --- | ---: |",
        ...waveRows.slice(0, waves),
      ];
      if (waves < waveRows.length) table.push("", `[and ${waveRows.length - waves} more waves](${pageUrl})`);
      parts.push(table.join("\n"));
    }
    if (failed.length > 0) {
      const more = failed.length - failures;
      const list =
        failures === 0
          ? [
              `**${failed.length} ${failedWords} ${failed.length === 1 ? "cluster" : "clusters"}**: [see them on the rollout page](${failedUrl})`,
            ]
          : [
              `**${unreachable ? "Failed or unreachable" : "Failed"} clusters** (${failed.length}):`,
              "",
              ...failureLines.slice(0, failures),
            ];
      if (failures > 0 && more > 0) list.push(`- [and ${more} more](${failedUrl})`);
      parts.push(list.join("\n"));
    }
    return parts.join("\n\n");
  };

  let failures = failureLines.length;
  let body = assemble(waveRows.length, failures);
  while (body.length > maxLength && failures > 0) body = assemble(waveRows.length, --failures);
  if (body.length > maxLength) {
    // Many waves, or little room: the most rows that fit, found by halving (each row adds more than it saves).
    let lo = 0;
    let hi = waveRows.length;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (assemble(mid, 0).length <= maxLength) lo = mid;
      else hi = mid - 1;
    }
    body = assemble(lo, 0);
  }
  if (body.length <= maxLength) return body;
  // Not even the heading and the failures' link fit: the heading alone, cut.
  return clip(heading, maxLength);
}
