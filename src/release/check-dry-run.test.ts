import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RefusedObject } from "../kube/apply.js";
import type { DesiredObject } from "../kube/desired-object.js";
import { checkDryRun } from "./check-dry-run.js";

const object = (name: string): DesiredObject => ({
  object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "shop" } },
  ref: { apiVersion: "v1", kind: "ConfigMap", namespace: "shop", name },
  key: `/ConfigMap/shop/${name}`,
  source: `deploy/${name}.yaml`,
  hash: "h",
  pendingCrd: false,
});
const unsupported = (name: string): RefusedObject => ({
  object: object(name),
  status: 400,
  reason: "BadRequest",
  message: 'admission webhook "audit.example.com" does not support dry run',
});
const invalid = (name: string): RefusedObject => ({
  object: object(name),
  status: 422,
  reason: "Invalid",
  message: 'ConfigMap "bad" is invalid: metadata.name: Invalid value',
});
const thrown = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail("expected a throw");
};

describe("checkDryRun", () => {
  it("by default fails on an object a webhook without dry-run support guards, naming it, the webhook and the setting", () => {
    const message = thrown(() => checkDryRun({ name: "staging" }, [unsupported("audited")], "nothing was applied"));
    assert.deepEqual(message.split("\n"), [
      'ConfigMap shop/audited (deploy/audited.yaml): admission webhook "audit.example.com" does not support dry run (its sideEffects is Some or Unknown), so the server could not validate this object',
      "(nothing was applied; to apply objects such a webhook guards without a dry-run, set validation: { unsupportedDryRun: skip } on environment staging)",
    ]);
    assert.equal(
      thrown(() =>
        checkDryRun({ name: "staging", validation: { unsupportedDryRun: "fail" } }, [unsupported("audited")], "x"),
      ),
      message.replace("nothing was applied", "x"),
    );
  });

  it("with skip returns those objects and their webhook, and still fails on every other refusal", () => {
    const skip = { name: "staging", validation: { unsupportedDryRun: "skip" as const } };
    assert.deepEqual(
      checkDryRun(skip, [unsupported("audited")], "x").map((s) => [s.object.ref.name, s.webhook]),
      [["audited", "audit.example.com"]],
    );
    assert.deepEqual(checkDryRun(skip, [], "x"), []);
    const message = thrown(() => checkDryRun(skip, [unsupported("audited"), invalid("bad")], "nothing was applied"));
    assert.match(message, /^ConfigMap shop\/bad \(deploy\/bad\.yaml\): ConfigMap "bad" is invalid/);
    assert.doesNotMatch(message, /audited/);
  });

  it("without skip lists the invalid objects first, then those it could not dry-run", () => {
    const lines = thrown(() =>
      checkDryRun({ name: "staging" }, [unsupported("audited"), invalid("bad")], "nothing was applied"),
    ).split("\n");
    assert.match(lines[0] ?? "", /^ConfigMap shop\/bad .* \(and 1 more\)$/);
    assert.match(lines[1] ?? "", /^ConfigMap shop\/audited .*"audit\.example\.com" does not support dry run/);
  });
});
