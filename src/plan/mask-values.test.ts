import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { secretForms } from "../sops/secret-values.js";
import { maskValuePair } from "./mask-values.js";

const configMap = (data: Record<string, string>, args: string[]) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "app", annotations: { note: data.note ?? "" } },
  data,
  spec: { args },
});

describe("maskValuePair", () => {
  it("hides decrypted values in any object, and the live value where the next one holds a secret", () => {
    const forms = secretForms(["new-password"]);
    const live = configMap({ copy: "old-password", note: "x" }, ["--password=old-password"]);
    const next = configMap({ copy: "new-password", note: "new-password" }, ["--password=new-password"]);
    const [maskedLive, maskedNext] = maskValuePair(live, next, forms);
    const text = JSON.stringify([maskedLive, maskedNext]);
    assert.ok(!text.includes("new-password") && !text.includes("old-password"), text);
    assert.deepEqual((maskedNext as typeof next).spec.args, ["--password=(hidden)"]);
    assert.deepEqual((maskedLive as typeof live).data, { copy: "(hidden)", note: "(hidden)" });
  });

  it("leaves objects alone without forms", () => {
    const next = configMap({ a: "b" }, []);
    assert.deepEqual(maskValuePair(undefined, next, []), [undefined, next]);
  });
});
