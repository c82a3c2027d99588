import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { maskSecretPair, type PlanObject } from "./mask-secret.js";

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

function secret({
  annotations,
  ...values
}: {
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  annotations?: Record<string, string>;
}): PlanObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: { name: "web-env", namespace: "shop", ...(annotations ? { annotations } : {}) },
    ...values,
  };
}

/** Every form a value could leak in. */
function forms(...values: string[]): string[] {
  return values.flatMap((v) => [v, b64(v)]);
}

function assertHidden(pair: unknown, values: string[]): void {
  const text = JSON.stringify(pair);
  for (const value of values) assert.ok(!text.includes(value), `${value} leaked into ${text}`);
}

describe("maskSecretPair", () => {
  it("marks kept, changed, added and removed keys", () => {
    const live = secret({
      data: { KEPT: b64("same-value-1"), CHANGED: b64("old-token-123"), REMOVED: b64("gone-value-77") },
    });
    const next = secret({
      data: { KEPT: b64("same-value-1"), CHANGED: b64("new-token-456"), ADDED: b64("fresh-value-9") },
    });
    const [maskedLive, maskedNext] = maskSecretPair(live, next);
    assert.deepEqual(maskedLive?.data, { CHANGED: "(hidden)", KEPT: "(hidden)", REMOVED: "(hidden, removed)" });
    assert.deepEqual(maskedNext?.data, { ADDED: "(hidden, added)", CHANGED: "(hidden, changed)", KEPT: "(hidden)" });
    assertHidden(
      [maskedLive, maskedNext],
      forms("same-value-1", "old-token-123", "new-token-456", "gone-value-77", "fresh-value-9"),
    );
  });

  it("compares stringData with data by its base64 and merges it into data", () => {
    const live = secret({ data: { SAME: b64("plain-same-1"), DIFF: b64("plain-old-22") } });
    const next = secret({
      stringData: { SAME: "plain-same-1", DIFF: "plain-new-33" },
      data: { OTHER: b64("other-value") },
    });
    const [maskedLive, maskedNext] = maskSecretPair(live, next);
    assert.deepEqual(maskedNext?.data, { DIFF: "(hidden, changed)", OTHER: "(hidden, added)", SAME: "(hidden)" });
    assert.equal(maskedNext && "stringData" in maskedNext, false);
    assert.deepEqual(maskedLive?.data, { DIFF: "(hidden)", SAME: "(hidden)" });
    assertHidden([maskedLive, maskedNext], forms("plain-same-1", "plain-old-22", "plain-new-33", "other-value"));
  });

  it("lets stringData win over data for the same key, as the server does", () => {
    const live = secret({ data: { KEY: b64("value-one") } });
    const next = secret({ data: { KEY: b64("value-two") }, stringData: { KEY: "value-one" } });
    assert.deepEqual(maskSecretPair(live, next)[1]?.data, { KEY: "(hidden)" });
  });

  it("treats base64 with line breaks as the same value", () => {
    const value = b64("a rather long value that a template wrapped over lines");
    const wrapped = `${value.slice(0, 20)}\n${value.slice(20)}\n`;
    assert.deepEqual(maskSecretPair(secret({ data: { K: value } }), secret({ data: { K: wrapped } }))[1]?.data, {
      K: "(hidden)",
    });
  });

  it("marks everything added on a create and removed on a delete", () => {
    const object = secret({ data: { A: b64("create-val-1") }, stringData: { B: "create-val-2" } });
    const [none, created] = maskSecretPair(undefined, object);
    assert.equal(none, undefined);
    assert.deepEqual(created?.data, { A: "(hidden, added)", B: "(hidden, added)" });
    const [deleted] = maskSecretPair(object, undefined);
    assert.deepEqual(deleted?.data, { A: "(hidden, removed)", B: "(hidden, removed)" });
    assertHidden([created, deleted], forms("create-val-1", "create-val-2"));
  });

  it("removes kubectl's last-applied copy, which holds the values, and keeps other fields", () => {
    const live = secret({
      data: { K: b64("applied-val-1") },
      annotations: {
        "kubectl.kubernetes.io/last-applied-configuration": JSON.stringify({ data: { K: b64("applied-val-1") } }),
        team: "shop",
      },
    });
    const [masked] = maskSecretPair(live, live);
    assert.deepEqual((masked?.metadata as { annotations: object }).annotations, { team: "shop" });
    assert.equal(masked?.type, "Opaque");
    assertHidden(masked, forms("applied-val-1"));
  });

  it("leaves its inputs alone", () => {
    const live = secret({ data: { K: b64("input-value-1") } });
    const copy = structuredClone(live);
    maskSecretPair(live, secret({ stringData: { K: "input-value-2" } }));
    assert.deepEqual(live, copy);
  });

  it("passes other kinds through untouched", () => {
    const live = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: { A: "visible" } };
    const next = { ...live, data: { A: "also visible" } };
    const [a, b] = maskSecretPair(live, next);
    assert.equal(a, live);
    assert.equal(b, next);
  });
});
