import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { dryRunUnsupportedBy } from "./dry-run-unsupported.js";

describe("dryRunUnsupportedBy", () => {
  it("names the webhook of the API server's dry-run refusal", () => {
    assert.equal(
      dryRunUnsupportedBy({ status: 400, message: 'admission webhook "audit.example.com" does not support dry run' }),
      "audit.example.com",
    );
  });

  it("leaves every other refusal alone, a webhook's own denial included", () => {
    for (const refused of [
      { status: 400, message: 'admission webhook "audit.example.com" denied the request: no' },
      { status: 422, message: 'ConfigMap "x" is invalid: data: Invalid value' },
      { status: 403, message: 'admission webhook "audit.example.com" does not support dry run' },
      { status: 400, message: 'field "x": admission webhook "audit.example.com" does not support dry run, it says' },
    ]) {
      assert.equal(dryRunUnsupportedBy(refused), undefined, refused.message);
    }
  });
});
