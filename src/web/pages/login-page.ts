import { html } from "./html.js";
import { layout } from "./layout.js";

/** The sign-in page: one link per forge, each coming back to `next`. */
export function loginPage(forges: Array<{ forge: string; label: string }>, next: string, error?: string): string {
  const query = (forge: string) => `/login/${forge}?${new URLSearchParams({ next }).toString()}`;
  return layout(
    "Sign in",
    html`<h1>Sign in to Ferry</h1>
      ${error === undefined ? undefined : html`<p role="alert">${error}</p>`}
      <p>Ferry shows the environments of the repositories you can read on the forge.</p>
      <ul>
        ${forges.map((f) => html`<li><a href="${query(f.forge)}">Sign in with ${f.label}</a></li>`)}
      </ul>`,
  );
}
