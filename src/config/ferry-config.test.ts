import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FerryError } from "../errors.js";
import { durationMs, parseFerryConfig, waitTimeoutMs } from "./ferry-config.js";
import { MAX_CONFIG_BYTES } from "./parse-yaml-config.js";

/** The error lines `parseFerryConfig` throws for `text`; fails when it does not throw a permanent FerryError. */
function errorLines(text: string, file?: string): string[] {
  try {
    parseFerryConfig(text, file);
  } catch (error) {
    assert.ok(error instanceof FerryError, `expected a FerryError, got ${String(error)}`);
    assert.equal(error.kind, "permanent");
    return error.message.split("\n");
  }
  assert.fail("expected parseFerryConfig to throw");
}

const valid = `version: 1
environments:
  - name: staging
    branch: main
    path: deploy/staging
    cluster: staging
    namespace: shop
  - name: production
    branch: main
    path: deploy/production
    cluster: prod-eu
    namespace: shop
    prune: false
    after: staging
`;

describe("parseFerryConfig", () => {
  it("accepts a valid config and fills in defaults", () => {
    const config = parseFerryConfig(valid);
    assert.equal(config.version, 1);
    assert.deepEqual(config.environments, [
      { name: "staging", branch: "main", path: "deploy/staging", cluster: "staging", namespace: "shop", prune: true },
      { name: "production", branch: "main", path: "deploy/production", cluster: "prod-eu", namespace: "shop", prune: false, after: "staging" },
    ]);
  });

  it("reports every bad field at once, each with file, line, column and field", () => {
    const lines = errorLines(
      `version: 1
environments:
  - name: Staging
    branch: main
    path: deploy/staging
    cluster: staging
    namespace: Shop_NS
`,
      "repo/.ferry.yml",
    );
    assert.deepEqual(lines, [
      "repo/.ferry.yml:3:11: environments.0.name: must be a DNS label (lower-case letters, digits, -)",
      "repo/.ferry.yml:7:16: environments.0.namespace: must be a DNS label (lower-case letters, digits, -)",
    ]);
  });

  it("refuses unknown keys, at every level", () => {
    const lines = errorLines(`version: 1
environments:
  - name: staging
    branch: main
    path: deploy
    cluster: staging
    namespace: shop
    replicas: 3
colour: blue
`);
    assert.equal(lines.length, 2);
    assert.ok(lines.some((l) => /^\.ferry\.yml:3:5: environments\.0: .*"replicas"/.test(l)), lines.join("\n"));
    assert.ok(lines.some((l) => /^\.ferry\.yml:1:1: \(top level\): .*"colour"/.test(l)), lines.join("\n"));
  });

  it("refuses paths that leave the repository or are absolute", () => {
    const lines = errorLines(`version: 1
environments:
  - name: a
    branch: main
    path: ../..
    cluster: c
    namespace: shop
  - name: b
    branch: main
    path: /etc
    cluster: c
    namespace: shop
  - name: c
    branch: main
    path: deploy/../../etc
    cluster: c
    namespace: shop
`);
    assert.deepEqual(lines, [
      ".ferry.yml:5:11: environments.0.path: must be a relative path inside the repository (no leading /, no ..)",
      ".ferry.yml:10:11: environments.1.path: must be a relative path inside the repository (no leading /, no ..)",
      ".ferry.yml:15:11: environments.2.path: must be a relative path inside the repository (no leading /, no ..)",
    ]);
  });

  it("refuses duplicate environment names", () => {
    const lines = errorLines(`version: 1
environments:
  - name: web
    branch: main
    path: x
    cluster: c
    namespace: shop
  - name: web
    branch: main
    path: y
    cluster: c
    namespace: shop
`);
    assert.deepEqual(lines, ['.ferry.yml:8:11: environments.1.name: duplicate environment "web"']);
  });

  it("refuses after: naming an environment that does not exist", () => {
    const lines = errorLines(`version: 1
environments:
  - name: production
    branch: main
    path: deploy
    cluster: c
    namespace: shop
    after: stagign
`);
    assert.deepEqual(lines, ['.ferry.yml:8:12: environments.0.after: no environment named "stagign"']);
  });

  it("accepts render modes and Helm options", () => {
    const config = parseFerryConfig(`version: 1
environments:
  - name: staging
    branch: main
    path: charts/shop
    cluster: c
    namespace: shop
    render: helm
    helm:
      releaseName: web
      valuesFiles: [values-staging.yaml, env/extra.yaml]
      values: {replicas: 2, image: {tag: "1.4"}}
      hooks: skip
  - name: overlay
    branch: main
    path: deploy/overlays/staging
    cluster: c
    namespace: shop
    render: kustomize
  - name: detected
    branch: main
    path: deploy
    cluster: c
    namespace: shop
`);
    const [staging, overlay, detected] = config.environments;
    assert.equal(staging?.render, "helm");
    assert.deepEqual(staging?.helm, { releaseName: "web", valuesFiles: ["values-staging.yaml", "env/extra.yaml"], values: { replicas: 2, image: { tag: "1.4" } }, hooks: "skip" });
    assert.equal(overlay?.render, "kustomize");
    assert.equal(detected?.render, undefined, "absent means auto");
  });

  it("refuses unknown render modes and bad Helm options", () => {
    const lines = errorLines(`version: 1
environments:
  - name: a
    branch: main
    path: x
    cluster: c
    namespace: shop
    render: jsonnet
  - name: b
    branch: main
    path: x
    cluster: c
    namespace: shop
    helm:
      releaseName: Web_1
      valuesFiles: [../secrets.yaml, /etc/values.yaml]
      hooks: apply
      repo: https://charts.example.com
`);
    assert.deepEqual(lines, [
      '.ferry.yml:8:13: environments.0.render: Invalid option: expected one of "auto"|"plain"|"kustomize"|"helm"',
      ".ferry.yml:15:20: environments.1.helm.releaseName: must be a DNS label (lower-case letters, digits, -)",
      ".ferry.yml:16:21: environments.1.helm.valuesFiles.0: must be a relative path inside the chart's directory (no leading /, no ..)",
      ".ferry.yml:16:38: environments.1.helm.valuesFiles.1: must be a relative path inside the chart's directory (no leading /, no ..)",
      '.ferry.yml:17:14: environments.1.helm.hooks: Invalid option: expected one of "refuse"|"skip"',
      '.ferry.yml:15:7: environments.1.helm: Unrecognized key: "repo"',
    ]);
  });

  it("refuses Helm options on an environment rendered otherwise", () => {
    const lines = errorLines(`version: 1
environments:
  - name: c
    branch: main
    path: x
    cluster: c
    namespace: shop
    render: kustomize
    helm: {releaseName: web}
`);
    assert.deepEqual(lines, [".ferry.yml:9:11: environments.0.helm: helm options need render: helm or auto, not kustomize"]);
  });

  it("accepts health waits and rollback on failure, and defaults to a 5 minute wait without rollback", () => {
    const config = parseFerryConfig(`version: 1
environments:
  - name: a
    branch: main
    path: x
    cluster: c
    namespace: shop
  - name: b
    branch: main
    path: x
    cluster: c
    namespace: shop
    wait: {timeout: 1m30s}
    onFailure: rollback
  - name: c
    branch: main
    path: x
    cluster: c
    namespace: shop
    wait: false
    onFailure: none
  - name: d
    branch: main
    path: x
    cluster: c
    namespace: shop
    wait: {}
`);
    const [a, b, c, d] = config.environments;
    assert.equal(a?.wait, undefined);
    assert.equal(a?.onFailure, undefined, "absent means none");
    assert.equal(a && waitTimeoutMs(a), 300_000);
    assert.deepEqual(b?.wait, { timeout: "1m30s" });
    assert.equal(b?.onFailure, "rollback");
    assert.equal(b && waitTimeoutMs(b), 90_000);
    assert.equal(c && waitTimeoutMs(c), undefined, "wait: false does not wait");
    assert.equal(d && waitTimeoutMs(d), 300_000);
  });

  it("refuses bad waits and failure policies, naming the field", () => {
    const lines = errorLines(`version: 1
environments:
  - name: a
    branch: main
    path: x
    cluster: c
    namespace: shop
    wait: {timeout: 5 minutes}
    onFailure: revert
  - name: b
    branch: main
    path: x
    cluster: c
    namespace: shop
    wait: {timeout: 2h}
  - name: c
    branch: main
    path: x
    cluster: c
    namespace: shop
    wait: soon
  - name: d
    branch: main
    path: x
    cluster: c
    namespace: shop
    wait: {timout: 5m}
`);
    assert.deepEqual(lines, [
      ".ferry.yml:8:21: environments.0.wait.timeout: must be a duration such as 30s, 5m or 1h30m",
      '.ferry.yml:9:16: environments.0.onFailure: Invalid option: expected one of "none"|"rollback"',
      ".ferry.yml:15:21: environments.1.wait.timeout: must be more than 0s and at most 1h",
      ".ferry.yml:21:11: environments.2.wait: must be false, true or { timeout: <duration> }",
      '.ferry.yml:27:11: environments.3.wait: Unrecognized key: "timout"',
    ]);
  });

  it("refuses a rollback on an environment that does not wait for health", () => {
    const lines = errorLines(`version: 1
environments:
  - name: a
    branch: main
    path: x
    cluster: c
    namespace: shop
    wait: false
    onFailure: rollback
`);
    assert.deepEqual(lines, [".ferry.yml:9:16: environments.0.onFailure: rollback needs a release that waits for health: drop wait: false"]);
  });

  it("reads durations as people write them", () => {
    assert.equal(durationMs("30s"), 30_000);
    assert.equal(durationMs("5m"), 300_000);
    assert.equal(durationMs("1h30m"), 5_400_000);
    assert.equal(durationMs("1m5s"), 65_000);
  });

  it("reports a YAML syntax error with its position", () => {
    const lines = errorLines("version: 1\nenvironments:\n  - name: staging\n\tbranch: main\n");
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? "", /^\.ferry\.yml:4:1: .*[Tt]ab/);
  });

  it("refuses an alias bomb before expanding it", () => {
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (const [prev, name] of [["a", "b"], ["b", "c"], ["c", "d"], ["d", "e"], ["e", "f"], ["f", "g"]] as const) {
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(", ")}]`);
    }
    const lines = errorLines(levels.join("\n") + "\n");
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? "", /^\.ferry\.yml: .*alias/i);
  });

  it("refuses a file over 256 KiB without parsing it", () => {
    const text = `version: 1\n# ${"x".repeat(MAX_CONFIG_BYTES)}\n`;
    assert.deepEqual(errorLines(text), [".ferry.yml: larger than 256 KiB"]);
  });

  it("reports a missing required field at its parent's position", () => {
    const lines = errorLines(`version: 1
environments:
  - name: a
    branch: main
    path: x
    namespace: shop
`);
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? "", /^\.ferry\.yml:3:5: environments\.0\.cluster: /);
  });

  it("reports a missing top-level field at the document's start", () => {
    assert.deepEqual(errorLines("version: 1\n").map((l) => l.split(": ").slice(0, 2).join(": ")), [".ferry.yml:1:1: environments"]);
  });
});
