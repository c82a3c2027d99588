import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { maskText, secretForms } from "./secret-values.js";

describe("secretForms and maskText", () => {
  it("masks a value, its base64 and each line of a value of several lines, longest first", () => {
    const forms = secretForms(["s3cret-pass", "line-one\nline-two", "ab"]);
    assert.ok(forms.includes("s3cret-pass") && forms.includes(Buffer.from("s3cret-pass").toString("base64")));
    assert.ok(forms.includes("line-one") && forms.includes("line-two"));
    assert.ok(!forms.includes("ab"), "too short to mask");
    assert.equal(
      maskText(`--password=s3cret-pass ${Buffer.from("s3cret-pass").toString("base64")} line-two`, forms),
      "--password=(hidden) (hidden) (hidden)",
    );
  });
});
