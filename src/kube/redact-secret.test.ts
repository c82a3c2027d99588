import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubeObject } from "../render/types.js";
import { redactSecretValues } from "./redact-secret.js";

const b64 = (text: string) => Buffer.from(text).toString("base64");

function secret(fields: { data?: Record<string, string>; stringData?: Record<string, string> }): KubeObject {
  return { apiVersion: "v1", kind: "Secret", metadata: { name: "web-env", namespace: "shop" }, ...fields };
}

describe("redactSecretValues", () => {
  it("removes base64 data values as stored", () => {
    const object = secret({ data: { API_TOKEN: b64("s3cr3t-token") } });
    const message = `Secret "web-env" is invalid: data[API_TOKEN]: Invalid value: "${b64("s3cr3t-token")}"`;
    assert.equal(
      redactSecretValues(message, object),
      'Secret "web-env" is invalid: data[API_TOKEN]: Invalid value: "[redacted]"',
    );
  });

  it("removes data values decoded", () => {
    const object = secret({ data: { API_TOKEN: b64("s3cr3t-token") } });
    assert.equal(redactSecretValues("token s3cr3t-token leaked", object), "token [redacted] leaked");
  });

  it("removes stringData values, as written and base64-encoded", () => {
    const object = secret({ stringData: { PASSWORD: "hunter2-long" } });
    assert.equal(redactSecretValues("bad value hunter2-long here", object), "bad value [redacted] here");
    assert.equal(redactSecretValues(`stored as ${b64("hunter2-long")}`, object), "stored as [redacted]");
  });

  it("removes every occurrence of every value", () => {
    const object = secret({ data: { A: b64("alpha-value") }, stringData: { B: "beta-value" } });
    assert.equal(redactSecretValues("alpha-value beta-value alpha-value", object), "[redacted] [redacted] [redacted]");
  });

  it("leaves objects that are not Secrets untouched", () => {
    const configMap: KubeObject = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "c" },
      data: { key: "visible-value" },
    };
    assert.equal(redactSecretValues("visible-value stays", configMap), "visible-value stays");
  });

  it("leaves values shorter than 3 characters alone, so ordinary words survive", () => {
    const object = secret({ stringData: { FLAG: "on" }, data: { N: b64("1") } });
    // "on" and "1" are too short to scrub; their base64 forms ("b24=", "MQ==") are long enough.
    assert.equal(redactSecretValues("turned on at 1 time", object), "turned on at 1 time");
    assert.equal(redactSecretValues("value b24= and MQ==", object), "value [redacted] and [redacted]");
  });

  it("copes with a Secret without data", () => {
    assert.equal(redactSecretValues("nothing to hide", secret({})), "nothing to hide");
  });
});
