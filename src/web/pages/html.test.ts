import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { html, type HtmlValue } from "./html.js";

describe("html", () => {
  it("escapes every value and keeps markup built by html", () => {
    const name = `<script>alert("x")</script>`;
    const cell = html`<td>${name}</td>`;
    const list: HtmlValue[] = [html`<td>${1}</td>`, undefined, false];
    // prettier-ignore
    const row = html`<tr title='${"a'b"}'>${cell}${list}</tr>`;
    assert.equal(
      row.text,
      `<tr title='a&#39;b'><td>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</td><td>1</td></tr>`,
    );
  });
});
