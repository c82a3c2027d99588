import type { CheckAnnotation, CheckConclusion, CheckRunReport } from "../forge/types.js";
import type { EnvironmentPlan } from "../plan/types.js";
import { clip } from "./clip.js";
import { short } from "./deploy-report.js";
import { planComment, plannedAgainst, planTable } from "./plan-comment.js";

/** GitHub's cap on a check run's summary and text, in characters. */
export const CHECK_OUTPUT_LENGTH = 65_535;

/** The longest error a failed check's summary quotes whole; the full plan has the rest. */
const SUMMARY_ERROR_LENGTH = 20_000;

/** What a check run says besides its name and who reports it (`Forge.ensureCheckRun` adds those). */
export type CheckContent = Omit<CheckRunReport, "name" | "externalId">;

/**
 * How an environment's plan ends as a check: `failure` when any of its cluster groups failed (config,
 * render, policy or server validation), `neutral` when nothing would change, else `success`.
 */
export function planConclusion(plans: EnvironmentPlan[]): CheckConclusion {
  if (plans.some((p) => p.error !== undefined)) return "failure";
  return plans.every((p) => p.counts.create + p.counts.update + p.counts.delete === 0) ? "neutral" : "success";
}

/**
 * One environment's plan as a check run: the title is the status description, the summary the
 * plan table (with what it was planned against and the full plan's link), the text every note,
 * error and diff (masked as in the comment, cut largest first to fit GitHub's 65,535 characters,
 * saying what it left out), and `annotations` on the files and lines the errors name.
 */
export function planCheck(input: {
  sha: string;
  plans: EnvironmentPlan[];
  title: string;
  fullPlanUrl: string;
  plannedAt: Date;
  annotations: CheckAnnotation[];
}): CheckContent {
  const { plans, fullPlanUrl } = input;
  const pointed = input.annotations.length;
  const summary = [
    `### Ferry plan · \`${short(input.sha)}\``,
    plannedAgainst(plans, input.plannedAt),
    planTable(plans),
    ...(pointed > 0
      ? [`❌ ${pointed} ${pointed === 1 ? "problem is" : "problems are"} marked on the files below (annotations).`]
      : []),
    `Full plan: ${fullPlanUrl}`,
  ].join("\n\n");
  const text = planComment({
    sha: input.sha,
    plans,
    fullPlanUrl,
    maxLength: CHECK_OUTPUT_LENGTH,
    detailsOnly: true,
  });
  return {
    conclusion: planConclusion(plans),
    title: input.title,
    summary: clip(summary, CHECK_OUTPUT_LENGTH),
    text,
    detailsUrl: fullPlanUrl,
    annotations: input.annotations,
  };
}

/** A check run that ended in `error` before any plan was made: a bad `.ferry.yml`, an archive refused. */
export function failedCheck(input: { title: string; error: string; annotations: CheckAnnotation[] }): CheckContent {
  const pointed = input.annotations.length;
  const summary = [
    "### Ferry could not plan this commit",
    ...(pointed > 0
      ? [`❌ marked on the files below (${pointed} ${pointed === 1 ? "annotation" : "annotations"}):`]
      : []),
    fence(clip(input.error, SUMMARY_ERROR_LENGTH)),
  ].join("\n\n");
  return { conclusion: "failure", title: input.title, summary, annotations: input.annotations };
}

/** A check run still working: `planning`, or `retrying: …` after a failure Ferry retries. */
export function runningCheck(title: string): CheckContent {
  return { title, summary: `Ferry is ${title.startsWith("retrying") ? title : "planning this commit"}.` };
}

/** A fenced block whose fence no run of backticks inside can close. */
function fence(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const bar = "`".repeat(Math.max(3, longest + 1));
  return `${bar}\n${text}\n${bar}`;
}
