import { html, type SafeHtml } from "./html.js";

/** The web view's one stylesheet: readable on a phone (tables turn into labelled lines), light or dark. */
export const PAGE_STYLE = `
:root { color-scheme: light dark; --line: #8884; --muted: light-dark(#595959, #a8a8a8); }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 72rem; padding: 1rem; }
header { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; justify-content: space-between; margin-bottom: 1rem; }
header form { margin: 0; }
h1 { font-size: 1.4rem; margin: 0 0 .5rem; word-break: break-word; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem .75rem; margin: 0; }
dt { font-weight: 600; } dd { margin: 0; overflow-wrap: anywhere; }
code { overflow-wrap: anywhere; }
code { font: 14px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
table { border-collapse: collapse; width: 100%; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { border-bottom: 1px solid var(--line); padding: .4rem .5rem; text-align: left; vertical-align: top; }
.state-failed, .state-unreachable, .state-drifted { font-weight: 700; }
button { font: inherit; padding: .3rem .8rem; }
@media (max-width: 40rem) {
  table.cards thead { position: absolute; left: -9999px; }
  table.cards tr { display: block; border-bottom: 1px solid var(--line); padding: .4rem 0; }
  table.cards td, table.cards th[scope="row"] { display: block; border: 0; padding: .1rem 0; }
  table.cards td:empty { display: none; }
  table.cards td[data-label]::before { content: attr(data-label) ": "; font-weight: 600; }
}
`;

/** Who is signed in, for the header's sign-out form. */
export interface PageViewer {
  /** The viewer's login and forge, shown in the header. */
  login: string;
  forge: string;
  /** The session's CSRF token, carried by the sign-out form. */
  csrf: string;
}

/** A whole page: title, header (home link; who is signed in and a sign-out button), and `main`. */
export function layout(title: string, main: SafeHtml, viewer?: PageViewer): string {
  const account =
    viewer === undefined
      ? undefined
      : html`<form method="post" action="/logout">
          <span>${viewer.login} (${viewer.forge})</span>
          <input type="hidden" name="csrf" value="${viewer.csrf}" />
          <button type="submit">Sign out</button>
        </form>`;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · Ferry</title>
        <link rel="stylesheet" href="/assets/ferry.css" />
      </head>
      <body>
        <header>
          <nav aria-label="Ferry"><a href="/">Ferry: environments</a></nav>
          ${account}
        </header>
        <main>${main}</main>
      </body>
    </html> `.text;
}
