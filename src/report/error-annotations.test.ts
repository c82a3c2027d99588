import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { errorAnnotations, type ReadSource } from "./error-annotations.js";

const files: Record<string, string> = {
  "deploy/web.yaml": [
    "apiVersion: apps/v1",
    "kind: Deployment",
    "metadata:",
    "  name: web",
    "spec:",
    "  replicas: -1",
    "  template:",
    "    spec:",
    "      containers:",
    "        - name: web",
    "          image: nginx",
    "          imagePullPolicyy: Always",
  ].join("\n"),
  "deploy/two.yaml": [
    "# first",
    "---",
    "kind: ConfigMap",
    "apiVersion: v1",
    "metadata: {name: a}",
    "---",
    "kind: ConfigMap",
    "apiVersion: v1",
    "metadata:",
    "  name: b",
    "colour: red",
  ].join("\n"),
};
const read: ReadSource = (path) => Promise.resolve(files[path]);

describe("errorAnnotations", () => {
  it("points config and manifest parse errors at their file and line", async () => {
    const error = [
      ".ferry.yml:8:24: environments.0.cluster: Required",
      ".ferry.yml:3:1: (top level): Unrecognized key",
      "deploy/x.yaml:2:5: Nested mappings are not allowed in compact mappings",
      "something without a place",
      "../outside.yaml:1:1: never read or pointed at",
    ].join("\n");
    assert.deepEqual(
      (await errorAnnotations(error, read)).map((a) => [a.path, a.startLine, a.endLine, a.level, a.message]),
      [
        [".ferry.yml", 8, 8, "failure", "environments.0.cluster: Required"],
        [".ferry.yml", 3, 3, "failure", "(top level): Unrecognized key"],
        ["deploy/x.yaml", 2, 2, "failure", "Nested mappings are not allowed in compact mappings"],
      ],
    );
  });

  it("finds the field a server refusal names in the object's manifest", async () => {
    const error = [
      'Deployment shop/web (deploy/web.yaml): Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0 (and 2 more)',
      "Deployment shop/web (deploy/web.yaml): .spec.template.spec.containers[0].imagePullPolicyy: field not declared in schema",
      'ConfigMap shop/b (deploy/two.yaml#2): strict decoding error: unknown field "colour"',
      "ConfigMap shop/a (deploy/two.yaml#1): is invalid: data.missing: Required value",
      'ConfigMap shop/zz (deploy/two.yaml#1): unknown field "colour"',
      'ConfigMap shop/c (charts/x/templates/c.yaml): unknown field "colour"',
      "(nothing was applied)",
    ].join("\n");
    assert.deepEqual(
      (await errorAnnotations(error, read)).map((a) => [a.path, a.startLine, a.title]),
      [
        ["deploy/web.yaml", 6, "Deployment web"],
        ["deploy/web.yaml", 12, "Deployment web"],
        ["deploy/two.yaml", 11, "ConfigMap b"],
        // A missing field is shown where its parent starts (the document).
        ["deploy/two.yaml", 3, "ConfigMap a"],
      ],
    );
  });
});
