import { html } from "./html.js";
import { layout, type PageViewer } from "./layout.js";

/** The page for what does not exist or what the viewer cannot read: the same words for both, so neither is told apart. */
export function notFoundPage(what: string, viewer?: PageViewer): string {
  return layout(
    "Not found",
    html`<h1>Not found</h1>
      <p>No such ${what}, or you cannot read its repository.</p>`,
    viewer,
  );
}
