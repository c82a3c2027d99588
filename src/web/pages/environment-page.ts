import type { AuditRecord } from "../../audit/audit-record.js";
import type { EnvironmentDetail } from "../environment-views.js";
import { displayTime, environmentPath, shortSha } from "./environment-link.js";
import { html, type SafeHtml } from "./html.js";
import { layout, type PageViewer } from "./layout.js";

/** `/environments/<forge>/<repo>/<env>`: the environment's state, clusters, drift, rollouts and one page of its history. */
export function environmentPage(env: EnvironmentDetail, viewer: PageViewer): string {
  const self = environmentPath(env.forge, env.repository, env.environment);
  const main = html`<h1>${env.repository} · ${env.environment}</h1>
    <dl>
      <dt>State</dt>
      <dd class="state-${env.state.replace(" ", "-")}">${env.state}</dd>
      <dt>Commit</dt>
      <dd><code>${env.commit ?? "none released"}</code></dd>
      <dt>Forge</dt>
      <dd>${env.forge}</dd>
      ${
        env.rollout === undefined
          ? undefined
          : html`<dt>Current rollout</dt>
              <dd>
                <a href="/rollouts/${env.rollout.id}"
                  >${env.rollout.state}, <code>${shortSha(env.rollout.sha)}</code></a
                >
              </dd>`
      }
    </dl>
    ${clustersTable(env)} ${driftSection(env)}
    <h2 id="history">Release history</h2>
    ${historyTable(env.history.map((r) => r.record))}
    <nav aria-label="History pages">
      ${env.paged ? html`<a href="${self}#history">Newest records</a>` : undefined}
      ${env.nextBefore === undefined ? undefined : html`<a href="${self}?before=${env.nextBefore}#history">Older records</a>`}
    </nav>
    ${
      env.rollouts.length === 0
        ? undefined
        : html`<h2>Rollouts on this page</h2>
            <ul>
              ${env.rollouts.map((id) => html`<li><a href="/rollouts/${id}">${id}</a></li>`)}
            </ul>`
    }`;
  return layout(`${env.repository} · ${env.environment}`, main, viewer);
}

function clustersTable(env: EnvironmentDetail): SafeHtml {
  if (env.clusters.length === 0)
    return html`<h2>Clusters</h2>
      <p>No rollout of this environment is kept.</p>`;
  return html`<h2>Clusters</h2>
    <table class="cards">
      <caption>
        Clusters of the current rollout
      </caption>
      <thead>
        <tr>
          <th scope="col">Cluster</th>
          <th scope="col">State</th>
          <th scope="col">Finished</th>
        </tr>
      </thead>
      <tbody>
        ${env.clusters.map(
          (c) =>
            html`<tr>
              <th scope="row" data-label="Cluster">${c.cluster}</th>
              <td data-label="State">${c.state}</td>
              <td data-label="Finished">${displayTime(c.finishedAt)}</td>
            </tr>`,
        )}
      </tbody>
    </table>`;
}

function driftSection(env: EnvironmentDetail): SafeHtml {
  if (env.drift.length === 0)
    return html`<h2>Drift</h2>
      <p>No drift check has reported on this environment.</p>`;
  return html`<h2>Drift</h2>
    <table class="cards">
      <caption>
        Latest drift check per cluster
      </caption>
      <thead>
        <tr>
          <th scope="col">Cluster</th>
          <th scope="col">Drifted objects</th>
          <th scope="col">Checked</th>
          <th scope="col">Summary</th>
        </tr>
      </thead>
      <tbody>
        ${env.drift.map(
          (v) =>
            html`<tr>
              <th scope="row" data-label="Cluster">${v.cluster}</th>
              <td data-label="Drifted objects">${v.drifted}</td>
              <td data-label="Checked">${displayTime(v.checkedAt)}</td>
              <td data-label="Summary">${v.summary ?? (v.drifted === 0 ? "in sync" : "")}</td>
            </tr>`,
        )}
      </tbody>
    </table>`;
}

function historyTable(records: AuditRecord[]): SafeHtml {
  if (records.length === 0) return html`<p>No records.</p>`;
  return html`<table class="cards">
    <caption>
      Audit records, newest first
    </caption>
    <thead>
      <tr>
        <th scope="col">Finished</th>
        <th scope="col">Action</th>
        <th scope="col">Outcome</th>
        <th scope="col">Commit</th>
        <th scope="col">Cluster</th>
        <th scope="col">Who</th>
        <th scope="col">Objects</th>
        <th scope="col">Reason</th>
      </tr>
    </thead>
    <tbody>
      ${records.map(
        (r) =>
          html`<tr>
            <td data-label="Finished">${displayTime(r.finishedAt)}</td>
            <td data-label="Action">${r.action}${r.change === undefined ? undefined : html` (#${r.change})`}</td>
            <td data-label="Outcome">${r.outcome}</td>
            <td data-label="Commit"><code>${shortSha(r.sha)}</code></td>
            <td data-label="Cluster">${r.cluster ?? ""}</td>
            <td data-label="Who">${r.actor}</td>
            <td data-label="Objects">
              ${
                r.objects === undefined
                  ? ""
                  : `+${r.objects.created.length} ~${r.objects.configured.length} −${r.objects.pruned.length}`
              }
            </td>
            <td data-label="Reason">${r.reason ?? ""}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}
