import type { EnvironmentSummary } from "../environment-views.js";
import { displayTime, environmentPath, shortSha } from "./environment-link.js";
import { html } from "./html.js";
import { layout, type PageViewer } from "./layout.js";

/** `/`: every environment the viewer may see, with its commit, state and last release. */
export function homePage(environments: EnvironmentSummary[], viewer: PageViewer): string {
  const rows = environments.map(
    (e) =>
      html`<tr>
        <th scope="row" data-label="Environment">
          <a href="${environmentPath(e.forge, e.repository, e.environment)}">${e.repository} · ${e.environment}</a>
        </th>
        <td data-label="Commit"><code>${shortSha(e.commit)}</code></td>
        <td data-label="State" class="state-${e.state.replace(" ", "-")}">${e.state}</td>
        <td data-label="Last release">
          ${
            e.lastRelease === undefined
              ? "none"
              : html`${e.lastRelease.outcome} <code>${shortSha(e.lastRelease.sha)}</code> by ${e.lastRelease.actor},
                  ${displayTime(e.lastRelease.at)}`
          }
        </td>
      </tr>`,
  );
  const body =
    environments.length === 0
      ? html`<p>No environment of a repository you can read has released anything yet.</p>`
      : html`<table class="cards">
          <caption>
            Environments you can see
          </caption>
          <thead>
            <tr>
              <th scope="col">Environment</th>
              <th scope="col">Commit</th>
              <th scope="col">State</th>
              <th scope="col">Last release</th>
            </tr>
          </thead>
          <tbody>
            ${rows}
          </tbody>
        </table>`;
  return layout(
    "Environments",
    html`<h1>Environments</h1>
      ${body}`,
    viewer,
  );
}
