import { describeRef } from "../kube/object-ref.js";
import type { EnvironmentPlan, ObjectAction, ObjectPlan } from "../plan/types.js";
import { firstLine, short } from "./deploy-report.js";
import { clip } from "./clip.js";

/** The hidden marker that finds a change's sticky plan comment again, so each plan edits it in place. */
export const PLAN_MARKER = "<!-- ferry:plan -->";

/** GitHub's cap on a commit status description. */
const STATUS_LENGTH = 140;

/** The longest error first line the summary table holds; the error section below has all of it. */
const TABLE_ERROR_LENGTH = 120;

/** How much of an error or note is kept when even that has to be shortened to fit. */
const SHORT_TEXT_LENGTH = 1_000;

const SYMBOL: Record<ObjectAction, string> = { create: "+", update: "~", delete: "−", unchanged: "=" };

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

const escapeHtml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const cell = (text: string) =>
  escapeHtml(text)
    .replace(/\|/g, "\\|")
    .replace(/[\r\n]+/g, " ");

/** A fenced code block whose fence is longer than any run of backticks inside, so the text cannot close it early. */
function fenced(text: string, info = ""): string {
  let longest = 0;
  for (const run of text.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}${info}\n${text}\n${fence}`;
}

function lineCount(text: string): number {
  if (text === "") return 0;
  let n = 1;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

function changed(plan: EnvironmentPlan): number {
  return plan.counts.create + plan.counts.update + plan.counts.delete;
}

/** How many of a plan's objects were not dry-run (an admission webhook on their kind does not support it, or the credentials may not). */
function notDryRun(plan: EnvironmentPlan): number {
  return plan.objects.filter(unvalidated).length;
}

/** True when the server did not dry-run the object. */
function unvalidated(object: ObjectPlan): boolean {
  return object.notDryRunBy !== undefined || object.dryRunForbidden !== undefined;
}

/** What a plan says of an object whose dry-run the credentials may not make. */
function forbiddenNote(message: string): string {
  return (
    `not dry-run: the server refused the dry-run (${message}); Kubernetes authorizes a dry-run as the write it simulates, ` +
    "so these credentials cannot validate this object, and a release with them would be refused too"
  );
}

/** What a plan says of an object it could not dry-run, and why. */
function notDryRunNote(webhook: string): string {
  return `not dry-run: admission webhook "${webhook}" does not support dry run, so the server did not validate this object; a release applies it unvalidated (validation.unsupportedDryRun: skip)`;
}

function errorText(error: string): string {
  return firstLine(error) || "unknown error";
}

/**
 * A plan's commit status description: `+2 ~1 −0 (14 unchanged)`, then `; 1 not dry-run` when objects
 * could not be dry-run; or `failed: ` and the error's first line.
 */
export function planStatusDescription(plan: EnvironmentPlan): string {
  const c = plan.counts;
  const skipped = notDryRun(plan);
  const text =
    plan.error !== undefined
      ? `failed: ${errorText(plan.error)}`
      : `+${c.create} ~${c.update} −${c.delete} (${c.unchanged} unchanged)${skipped > 0 ? `; ${skipped} not dry-run` : ""}`;
  return clip(text, STATUS_LENGTH);
}

function tableRow(plan: EnvironmentPlan): string {
  const c = plan.counts;
  if (plan.error !== undefined)
    return `| ${cell(plan.environment)} | ${cell(plan.cluster)} | | | | ❌ ${cell(clip(errorText(plan.error), TABLE_ERROR_LENGTH))} |`;
  const n = changed(plan);
  const skipped = notDryRun(plan);
  const result = `${n === 0 ? "no changes" : `${n} to change`}${skipped > 0 ? `, ⚠️ ${skipped} not dry-run` : ""}`;
  return `| ${cell(plan.environment)} | ${cell(plan.cluster)} | ${c.create} | ${c.update} | ${c.delete} | ${result} |`;
}

function summary(env: string, object: ObjectPlan): string {
  const hidden = object.ref.kind === "Secret" ? " (values hidden)" : "";
  const warning = unvalidated(object) ? " ⚠️ not dry-run" : "";
  return `<details><summary>${escapeHtml(`${env} · ${SYMBOL[object.action]} ${describeRef(object.ref)}${hidden}${warning}`)}</summary>`;
}

/** Why an object was not dry-run, and what its diff then shows; "" when it was dry-run. */
function unvalidatedText(object: ObjectPlan): string {
  if (object.dryRunForbidden !== undefined) {
    const diff =
      object.action === "update"
        ? "; the diff compares the live object with what the manifest sets, field by field"
        : "";
    return forbiddenNote(object.dryRunForbidden) + diff;
  }
  if (object.notDryRunBy === undefined) return "";
  const noDiff = object.diff === "" ? "; without a dry-run the server cannot say what this update changes" : "";
  return notDryRunNote(object.notDryRunBy) + noDiff;
}

/** What an object's section says before its diff: why it was not dry-run, if it was not. */
function objectNote(object: ObjectPlan): string {
  const text = unvalidatedText(object);
  return text === "" ? "" : `> ⚠️ ${escapeHtml(text)}\n\n`;
}

/** A plan's notes as the comment shows them, or "" when it has none. */
function notesBlock(plan: EnvironmentPlan): string {
  if (!plan.notes?.length) return "";
  return plan.notes
    .map((note) => `> ℹ️ **${escapeHtml(plan.environment)}** (${escapeHtml(plan.cluster)}): ${escapeHtml(note)}`)
    .join("\n>\n");
}

/** An object's diff, or nothing when it has none (an update that could not be dry-run). */
function diffBlock(object: ObjectPlan): string {
  return object.diff === "" ? "" : `\n\n${fenced(object.diff, "diff")}`;
}

/** A block of the comment that can be shown whole or in a shorter form when the comment runs out of room. */
interface Block {
  full: string;
  short: string;
  /** What "largest first" ranks by. */
  weight: number;
  /** Position in the comment, to break ties the same way every time. */
  order: number;
  state: "full" | "short" | "dropped";
}

function noteBlock(note: string): string {
  return note.includes("\n") ? fenced(note) : `> ${escapeHtml(note)}`;
}

function errorBlock(plan: EnvironmentPlan, error: string): string {
  return `**${escapeHtml(plan.environment)}**: the plan failed; nothing will change there until this is fixed:\n\n${fenced(error)}`;
}

/** What a comment left out to fit, and where the rest is; "" when nothing was left out. */
function cutNotice(cut: number, dropped: number, shortTexts: number, url: string | undefined): string {
  if (cut === 0 && shortTexts === 0) return "";
  const what: string[] = [];
  if (cut > 0) {
    const detail =
      dropped === 0
        ? ""
        : dropped === cut
          ? ", their objects not listed"
          : ` (${dropped} of them with their objects not listed)`;
    what.push(`${plural(cut, "diff", "diffs")} left out of this comment${detail}`);
  }
  if (shortTexts > 0) what.push(`${plural(shortTexts, "message", "messages")} shortened`);
  const where = url
    ? `the full plan has ${cut + shortTexts === 1 ? "it" : "them"}: ${url}`
    : "the full plan Ferry keeps has them";
  return `⚠️ ${what.join("; ")}; ${where}`;
}

/**
 * The sticky plan comment on a change: marker, summary table, errors, then one collapsible diff per
 * changed object. It never exceeds `maxLength`: the largest diffs are cut first, then whole object
 * sections are dropped, and the comment says what it left out and where the full plan is. `note`
 * (e.g. a configuration error) is shown under the heading. With `detailsOnly`, the marker, heading
 * and table are left out: what a check run's text shows below its summary.
 */
export function planComment(input: {
  sha: string;
  plans: EnvironmentPlan[];
  fullPlanUrl?: string;
  maxLength: number;
  note?: string;
  plannedAt?: Date;
  detailsOnly?: boolean;
}): string {
  const { plans, fullPlanUrl: url, maxLength } = input;
  const against = input.plannedAt === undefined || plans.length === 0 ? [] : [plannedAgainst(plans, input.plannedAt)];
  const head =
    input.detailsOnly === true ? "" : [PLAN_MARKER, `### Ferry plan · \`${short(input.sha)}\``, ...against].join("\n");
  const table = input.detailsOnly === true ? "" : planTable(plans);

  const texts: Block[] = [];
  if (input.note !== undefined && input.note !== "") {
    texts.push({
      full: noteBlock(input.note),
      short: noteBlock(clip(input.note, SHORT_TEXT_LENGTH)),
      weight: input.note.length,
      order: 0,
      state: "full",
    });
  }
  for (const plan of plans) {
    const notes = notesBlock(plan);
    if (notes !== "")
      texts.push({ full: notes, short: notes, weight: notes.length, order: texts.length, state: "full" });
  }
  for (const plan of plans) {
    if (plan.error === undefined) continue;
    texts.push({
      full: errorBlock(plan, plan.error),
      short: errorBlock(plan, `${clip(plan.error, SHORT_TEXT_LENGTH)}\n(error cut: the full plan has all of it)`),
      weight: plan.error.length,
      order: texts.length,
      state: "full",
    });
  }

  const objects: Block[] = [];
  for (const plan of plans) {
    for (const object of plan.objects) {
      if (object.action === "unchanged") continue;
      const open = `${summary(plan.environment, object)}\n\n${objectNote(object)}`.trimEnd();
      objects.push({
        full: `${open}${diffBlock(object)}\n</details>`,
        short: `${open}\n\ndiff too large for this comment (${lineCount(object.diff)} lines): see the full plan\n</details>`,
        weight: object.diff.length,
        order: objects.length,
        state: "full",
      });
    }
  }

  const unchanged = plans.reduce((n, p) => n + p.counts.unchanged, 0);
  const footerParts = [
    ...(plans.length > 0 ? [`${plural(unchanged, "object", "objects")} unchanged`] : []),
    ...(url ? [`full plan: ${url}`] : []),
  ];
  const footer = footerParts.length > 0 ? `<sub>${footerParts.join(" · ")}</sub>` : "";

  const notice = (): string =>
    cutNotice(
      objects.filter((b) => b.state !== "full").length,
      objects.filter((b) => b.state === "dropped").length,
      texts.filter((b) => b.state === "short").length,
      url,
    );

  const assemble = (): string =>
    [
      head,
      table,
      notice(),
      ...texts.map((b) => (b.state === "full" ? b.full : b.short)),
      ...objects.filter((b) => b.state !== "dropped").map((b) => (b.state === "full" ? b.full : b.short)),
      footer,
    ]
      .filter((part) => part !== "")
      .join("\n\n");

  // Lengths are tracked as running sums so fitting 5,000 sections stays linear; the notice is
  // measured at its longest (every count at its final digits is at most this long).
  const SEP = 2;
  const blockLength = (b: Block) => (b.state === "dropped" ? 0 : (b.state === "full" ? b.full : b.short).length + SEP);
  const fixed = [head, table, footer].filter((p) => p !== "").reduce((n, p) => n + p.length + SEP, 0);
  let variable = [...texts, ...objects].reduce((n, b) => n + blockLength(b), 0);
  const n = objects.length;
  const noticeRoom =
    Math.max(cutNotice(n, n, texts.length, url).length, cutNotice(n, Math.max(0, n - 1), texts.length, url).length) +
    SEP;
  const fits = () => fixed + variable + noticeRoom <= maxLength;
  const shrink = (b: Block, to: Block["state"]) => {
    variable -= blockLength(b);
    b.state = to;
    variable += blockLength(b);
  };
  const largestFirst = (blocks: Block[]) => [...blocks].sort((a, b) => b.weight - a.weight || a.order - b.order);

  if (fixed + variable > maxLength) {
    // A message taking over a quarter of the room is shortened before any diff is touched: one
    // huge error should not push every diff out of the comment.
    for (const b of largestFirst(texts)) {
      if (fits()) break;
      if (b.full.length > maxLength / 4 && b.short.length < b.full.length) shrink(b, "short");
    }
    const ranked = largestFirst(objects);
    for (const b of ranked) {
      if (fits()) break;
      if (b.short.length < b.full.length) shrink(b, "short");
    }
    for (const b of ranked) {
      if (fits()) break;
      shrink(b, "dropped");
    }
    for (const b of largestFirst(texts)) {
      if (fits()) break;
      if (b.short.length < b.full.length) shrink(b, "short");
    }
  }
  const body = assemble();
  if (body.length <= maxLength) return body;
  // Only a huge table or heading gets here: cut the text itself, keeping the marker at the top.
  const tail = "\n\n⚠️ comment cut to fit the forge's size limit; see the full plan";
  return tail.length < maxLength ? clip(body, maxLength - tail.length) + tail : clip(body, maxLength);
}

/** The summary table of plans: one row per environment and cluster group, or "" with no plans. */
export function planTable(plans: EnvironmentPlan[]): string {
  if (plans.length === 0) return "";
  return [
    "| environment | cluster | + | ~ | − | result |",
    "| --- | --- | ---: | ---: | ---: | --- |",
    ...plans.map(tableRow),
  ].join("\n");
}

/** The complete plan as plain text, every diff whole: what Ferry serves at the plan's URL. */
export function fullPlanText(input: { sha: string; plans: EnvironmentPlan[] }): string {
  const out = [`Ferry plan of ${input.sha}`];
  for (const plan of input.plans) {
    const c = plan.counts;
    out.push(
      "",
      `== ${plan.environment} (cluster ${plan.cluster}): +${c.create} ~${c.update} −${c.delete} (${c.unchanged} unchanged)`,
    );
    for (const note of plan.notes ?? []) out.push(`note: ${note}`);
    if (plan.error !== undefined) out.push("", "The plan failed:", plan.error);
    for (const object of plan.objects) {
      if (object.action === "unchanged") continue;
      const hidden = object.ref.kind === "Secret" ? " (values hidden)" : "";
      out.push(
        "",
        `${SYMBOL[object.action]} ${describeRef(object.ref)}${hidden}${object.source ? ` from ${object.source}` : ""}`,
      );
      if (object.dryRunForbidden !== undefined) out.push(unvalidatedText(object));
      else if (object.notDryRunBy !== undefined) out.push(notDryRunNote(object.notDryRunBy));
      if (object.diff !== "") out.push(object.diff);
    }
  }
  return `${out.join("\n")}\n`;
}

/**
 * What the plan was made against, as the comment's second line: each environment's commit on its
 * cluster when planned (`planned against staging at \`3f2a9c1\`, production never released · 12:04 UTC`).
 */
export function plannedAgainst(plans: EnvironmentPlan[], at: Date): string {
  const first = new Map<string, EnvironmentPlan>();
  for (const plan of plans) if (!first.has(plan.environment)) first.set(plan.environment, plan);
  const envs = [...first.values()].map((p) =>
    p.releasedSha === undefined ? `${p.environment} never released` : `${p.environment} at \`${short(p.releasedSha)}\``,
  );
  return `<sub>planned against ${envs.join(", ")} · ${at.toISOString().slice(11, 16)} UTC</sub>`;
}
