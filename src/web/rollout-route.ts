import { createHash } from "node:crypto";
import express, { type Request, type Response, type Router } from "express";
import type { Logger } from "pino";
import { CLUSTER_STATES, failuresOf, type ClusterProgress, type ClusterState } from "../domain/rollout.js";
import { failureDescription, releaseSummary, short } from "../report/deploy-report.js";
import {
  clusterCounts,
  fleetStatus,
  formatDuration,
  notTouchedOf,
  releasedOf,
  waveSummaries,
  type RolloutView,
  type WaveSummary,
} from "../report/fleet-status.js";
import type { RepoGuard } from "./repo-guard.js";

/** What the rollout page needs. */
export interface RolloutRouteOptions {
  /** The rollout with this id and its clusters, or undefined for an unknown (or expired) one. */
  load(id: string): Promise<RolloutView | undefined>;
  /** Where a failed load is logged. */
  log?: Pick<Logger, "error">;
  /** Epoch ms now, which times running clusters and waves (tests fix it). */
  now?: () => number;
  /** Who may see the rollout: viewers who can read its repository, or nobody when no sign-in is configured. */
  guard: RepoGuard;
}

/** A rollout id: 22 base64url characters (16 random bytes). */
const ROLLOUT_ID = /^[A-Za-z0-9_-]{22}$/;

const STYLE = `
:root { color-scheme: light dark; --line: #8884; --muted: light-dark(#595959, #a8a8a8); --bad: light-dark(#b3261e, #ff8a80); --good: light-dark(#1a7f37, #57d27a); }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 72rem; padding: 1rem; }
h1 { font-size: 1.4rem; margin: 0 0 .25rem; word-break: break-word; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
code, pre { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
pre { white-space: pre-wrap; word-break: break-word; margin: .25rem 0; }
.status { font-size: 1.05rem; margin: .25rem 0 1rem; }
.status.failure { color: var(--bad); } .status.success { color: var(--good); }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem .75rem; margin: 0; }
dt { color: var(--muted); } dd { margin: 0; word-break: break-word; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: .35rem .5rem; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
nav a { display: inline-block; margin: 0 .75rem .5rem 0; }
nav a[aria-current] { font-weight: 700; text-decoration: none; }
.s-failed, .s-unreachable { color: var(--bad); } .s-released, .s-already-released { color: var(--good); }
@media (max-width: 40rem) {
  table.clusters thead { display: none; }
  table.clusters tr { display: block; border-bottom: 1px solid var(--line); padding: .4rem 0; }
  table.clusters td { display: block; border: 0; padding: .1rem 0; }
  table.clusters td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); }
}
`;

/** Only the page's own stylesheet may apply: no scripts, no other sources, no framing, no forms. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `style-src 'sha256-${createHash("sha256").update(STYLE).digest("base64")}'`,
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * Sent with every answer: the page's address is its only key, so it is kept out of caches and
 * Referer headers, and nothing else may run in it or frame it.
 */
function secure(res: Response): void {
  res.set({
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
  });
}

/**
 * `GET /rollouts/:id`: a fleet rollout's page, linked from its status and comment section. HTML
 * (every cluster with its wave, state, duration and failure; wave summaries on top) or, for a path
 * ending in `.json` or `Accept: application/json`, the same as JSON. `?state=failed` (or any
 * cluster states, comma-separated) lists only those clusters. An id that is not 22 base64url
 * characters is a 404 without a lookup.
 */
export function rolloutRoute(options: RolloutRouteOptions): Router {
  const router = express.Router();
  const now = options.now ?? Date.now;
  router.get("/rollouts/:id", async (req, res) => {
    secure(res);
    const asked = req.params.id;
    const suffixed = asked.endsWith(".json");
    const id = suffixed ? asked.slice(0, -".json".length) : asked;
    if (!suffixed) res.vary("Accept");
    const json = suffixed || req.accepts(["text/html", "application/json"]) === "application/json";
    const fail = (status: number, message: string) => {
      if (json) res.status(status).json({ error: message });
      else res.status(status).type("text/plain; charset=utf-8").send(`${message}\n`);
    };
    if (!ROLLOUT_ID.test(id)) return fail(404, "no such rollout");
    const states = stateFilter(req);
    if (states === undefined) return fail(400, `unknown state; the states are ${CLUSTER_STATES.join(", ")}`);
    let view: RolloutView | undefined;
    try {
      view = await options.load(id);
    } catch (err) {
      options.log?.error({ err, rollout: id }, "loading a rollout failed");
      return fail(503, "could not load the rollout; try again");
    }
    if (!(await options.guard(req, res, view?.rollout.repo, "rollout", json))) return;
    if (view === undefined) return fail(404, "no such rollout");
    const at = now();
    const shown = states.size === 0 ? view.clusters : view.clusters.filter((c) => states.has(c.state));
    if (json) res.json(rolloutJson(view, shown, at));
    else res.type("text/html; charset=utf-8").send(rolloutPage(view, shown, states, at));
  });
  return router;
}

/** The cluster states asked for by `?state=` (empty: all), or undefined when one is not a state. */
function stateFilter(req: Request): Set<ClusterState> | undefined {
  const raw: unknown = req.query.state;
  const values = raw === undefined ? [] : Array.isArray(raw) ? (raw as unknown[]) : [raw];
  const states = new Set<ClusterState>();
  for (const value of values) {
    if (typeof value !== "string") return undefined;
    for (const state of value.split(",")) {
      if (state === "") continue;
      if (!(CLUSTER_STATES as readonly string[]).includes(state)) return undefined;
      states.add(state as ClusterState);
    }
  }
  return states;
}

function durationOf(c: ClusterProgress, now: number): number | undefined {
  if (c.startedAt === undefined) return undefined;
  return Math.max(0, (c.finishedAt ?? (c.state === "releasing" ? now : c.startedAt)) - c.startedAt);
}

/** The JSON answer: the rollout, its status, per-wave summaries and the clusters asked for. */
function rolloutJson(view: RolloutView, shown: ClusterProgress[], now: number): unknown {
  return {
    rollout: view.rollout,
    status: fleetStatus(view, now),
    counts: clusterCounts(view.clusters),
    waves: waveSummaries(view, now).map((w) => ({
      index: w.plan.index,
      name: w.plan.name,
      state: w.state,
      total: w.total,
      counts: w.counts,
      maxParallel: w.plan.maxParallel,
      failureBudget: w.plan.failureBudget,
      approval: w.plan.approval,
      pauseMs: w.plan.pauseMs,
      startedAt: w.startedAt,
      finishedAt: w.finishedAt,
      durationMs: w.durationMs,
    })),
    clusters: shown.map((c) => ({ ...c, durationMs: durationOf(c, now) })),
  };
}

const escapeHtml = (text: string) =>
  text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");

const time = (ms: number | undefined) =>
  ms === undefined
    ? ""
    : new Date(ms)
        .toISOString()
        .replace("T", " ")
        .replace(/\.\d+Z$/, " UTC");

/** One cluster's result in words: why it failed (its whole error below the first line), what it changed, why it was skipped. */
function detailsHtml(c: ClusterProgress): string {
  const o = c.outcome;
  switch (o?.kind) {
    case undefined:
      return "";
    case "released":
      return escapeHtml(releaseSummary(o.result));
    case "already-released":
      return escapeHtml(`already running ${short(o.sha)}`);
    case "superseded":
      return escapeHtml(`superseded by ${short(o.by)}`);
    case "skipped":
      return escapeHtml(o.reason);
    case "failed": {
      const rollback = o.rollback && { state: o.rollback.state, sha: o.rollback.sha, message: o.rollback.message };
      const summary = escapeHtml(failureDescription(o.error, rollback));
      const more = [
        o.error.includes("\n") ? o.error : "",
        o.rollback?.message ? `rollback: ${o.rollback.message}` : "",
      ].filter(Boolean);
      return more.length === 0
        ? summary
        : `<details><summary>${summary}</summary><pre>${escapeHtml(more.join("\n\n"))}</pre></details>`;
    }
    case "unreachable":
      return escapeHtml(failureDescription(o.error));
  }
}

function waveRowHtml(w: WaveSummary): string {
  const cells = [
    `<td>${w.plan.index + 1} · ${escapeHtml(w.plan.name)}</td>`,
    `<td class="n">${w.total}</td>`,
    `<td class="n">${releasedOf(w.counts)}</td>`,
    `<td class="n">${failuresOf(w.counts)} <small>/ ${w.plan.failureBudget}</small></td>`,
    `<td class="n">${w.counts.releasing}</td>`,
    `<td class="n">${notTouchedOf(w.counts)}</td>`,
    `<td>${escapeHtml(w.state)}</td>`,
    `<td class="n">${w.durationMs === undefined ? "" : formatDuration(w.durationMs)}</td>`,
  ];
  return `<tr>${cells.join("")}</tr>`;
}

function clusterRowHtml(view: RolloutView, c: ClusterProgress, now: number): string {
  const wave = view.rollout.waves[c.wave];
  const duration = durationOf(c, now);
  const cells = [
    `<td data-label="cluster"><code>${escapeHtml(c.cluster)}</code></td>`,
    `<td data-label="wave">${c.wave + 1}${wave ? ` · ${escapeHtml(wave.name)}` : ""}</td>`,
    `<td data-label="state" class="s-${c.state}">${escapeHtml(c.state)}</td>`,
    `<td data-label="duration" class="n">${duration === undefined ? "" : formatDuration(duration)}</td>`,
    `<td data-label="details">${detailsHtml(c)}</td>`,
  ];
  return `<tr>${cells.join("")}</tr>`;
}

/** The rollout page: who released what where, the waves, then every cluster asked for. */
function rolloutPage(view: RolloutView, shown: ClusterProgress[], states: Set<ClusterState>, now: number): string {
  const { rollout } = view;
  const status = fleetStatus(view, now);
  const counts = clusterCounts(view.clusters);
  const facts: [string, string][] = [
    ["repository", rollout.repo.fullName],
    ["branch", rollout.branch],
    ["commit", rollout.sha],
    ["by", rollout.actor],
    ...(rollout.after === undefined ? [] : [["after", rollout.after] as [string, string]]),
    ["state", rollout.state],
    ["started", time(rollout.createdAt)],
    ...(rollout.finishedAt === undefined ? [] : [["finished", time(rollout.finishedAt)] as [string, string]]),
    ...(rollout.pausedUntil === undefined || rollout.state !== "paused"
      ? []
      : [["paused until", time(rollout.pausedUntil)] as [string, string]]),
    ...(rollout.reason ? [["reason", rollout.reason] as [string, string]] : []),
    ...(rollout.supersededBy === undefined ? [] : [["superseded by", rollout.supersededBy] as [string, string]]),
  ];
  const filters = [`<a href="?"${states.size === 0 ? ' aria-current="page"' : ""}>all (${view.clusters.length})</a>`];
  for (const state of CLUSTER_STATES) {
    if (counts[state] === 0) continue;
    const current = states.size === 1 && states.has(state) ? ' aria-current="page"' : "";
    filters.push(`<a href="?state=${state}"${current}>${state} (${counts[state]})</a>`);
  }
  const which =
    states.size === 0 ? "" : ` (${escapeHtml([...states].join(", "))}: ${shown.length} of ${view.clusters.length})`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(`${rollout.environment} · ${short(rollout.sha)} · Ferry rollout`)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(rollout.environment)} · <code>${escapeHtml(short(rollout.sha))}</code></h1>
<p class="status ${status.state}">${escapeHtml(status.description)}</p>
<dl>${facts.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join("")}</dl>
</header>
<main>
<h2>Waves</h2>
<div class="scroll"><table>
<thead><tr><th>wave</th><th class="n">clusters</th><th class="n">released</th><th class="n">failed / budget</th><th class="n">releasing</th><th class="n">not touched</th><th>state</th><th class="n">duration</th></tr></thead>
<tbody>
${waveSummaries(view, now).map(waveRowHtml).join("\n")}
</tbody>
</table></div>
<h2>Clusters${which}</h2>
<nav>${filters.join("")}</nav>
<table class="clusters">
<thead><tr><th>cluster</th><th>wave</th><th>state</th><th class="n">duration</th><th>details</th></tr></thead>
<tbody>
${shown.map((c) => clusterRowHtml(view, c, now)).join("\n")}
</tbody>
</table>
</main>
</body>
</html>
`;
}
