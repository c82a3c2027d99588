import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FerryError } from "../errors.js";
import {
  driftMode,
  durationMs,
  parseFerryConfig,
  pruneNamespaces,
  unsupportedDryRun,
  waitTimeoutMs,
} from "./ferry-config.js";
import { reconcileInterval } from "./reconcile-interval.js";
import { serverConfigSchema } from "./server-config.js";
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
      {
        name: "production",
        branch: "main",
        path: "deploy/production",
        cluster: "prod-eu",
        namespace: "shop",
        prune: false,
        after: "staging",
      },
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
    assert.ok(
      lines.some((l) => /^\.ferry\.yml:3:5: environments\.0: .*"replicas"/.test(l)),
      lines.join("\n"),
    );
    assert.ok(
      lines.some((l) => /^\.ferry\.yml:1:1: \(top level\): .*"colour"/.test(l)),
      lines.join("\n"),
    );
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
    assert.deepEqual(staging?.helm, {
      releaseName: "web",
      valuesFiles: ["values-staging.yaml", "env/extra.yaml"],
      values: { replicas: 2, image: { tag: "1.4" } },
      hooks: "skip",
    });
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
    assert.deepEqual(lines, [
      ".ferry.yml:9:11: environments.0.helm: helm options need render: helm or auto, not kustomize",
    ]);
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
    assert.deepEqual(lines, [
      ".ferry.yml:9:16: environments.0.onFailure: rollback needs a release that waits for health: drop wait: false",
    ]);
  });

  it("accepts validation.unsupportedDryRun skip or fail, fail when absent, and refuses anything else", () => {
    let n = 0;
    const env = (validation: string) => `  - name: e${++n}
    branch: main
    path: x
    cluster: c
    namespace: shop
${validation}`;
    const config = parseFerryConfig(`version: 1
environments:
${env("")}${env("    validation: {unsupportedDryRun: skip}\n")}${env("    validation: {unsupportedDryRun: fail}\n")}${env("    validation: {}\n")}`);
    assert.deepEqual(config.environments.map(unsupportedDryRun), ["fail", "skip", "fail", "fail"]);
    const lines = errorLines(`version: 1
environments:
${env("    validation: {unsupportedDryRun: ignore}\n")}${env("    validation: {dryRun: false}\n")}`);
    assert.deepEqual(lines, [
      '.ferry.yml:8:37: environments.0.validation.unsupportedDryRun: Invalid option: expected one of "fail"|"skip"',
      '.ferry.yml:14:17: environments.1.validation: Unrecognized key: "dryRun"',
    ]);
  });

  it("accepts pruneNamespaces safe or cascade, safe when absent; refuses anything else, and with prune: false", () => {
    let n = 0;
    const env = (extra: string) => `  - name: e${++n}
    branch: main
    path: x
    cluster: c
    namespace: shop
${extra}`;
    const config = parseFerryConfig(`version: 1
environments:
${env("")}${env("    pruneNamespaces: cascade\n")}${env("    pruneNamespaces: safe\n")}`);
    assert.deepEqual(config.environments.map(pruneNamespaces), ["safe", "cascade", "safe"]);
    const lines = errorLines(`version: 1
environments:
${env("    pruneNamespaces: always\n")}${env("    prune: false\n    pruneNamespaces: cascade\n")}`);
    assert.deepEqual(lines, [
      '.ferry.yml:8:22: environments.0.pruneNamespaces: Invalid option: expected one of "safe"|"cascade"',
      ".ferry.yml:15:22: environments.1.pruneNamespaces: pruneNamespaces says how prune deletes Namespaces, and prune is false: drop one of them",
    ]);
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
    for (const [prev, name] of [
      ["a", "b"],
      ["b", "c"],
      ["c", "d"],
      ["d", "e"],
      ["e", "f"],
      ["f", "g"],
    ] as const) {
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
    assert.deepEqual(
      errorLines("version: 1\n").map((l) => l.split(": ").slice(0, 2).join(": ")),
      [".ferry.yml:1:1: environments"],
    );
  });
});

/** A `.ferry.yml` with one environment per entry, each given as YAML lines after `name:` (indented 4). */
function fleetConfig(...environments: string[]): string {
  return `version: 1\nenvironments:\n${environments.map((e) => `  - ${e.trim().replace(/\n/g, "\n    ")}\n`).join("")}`;
}

describe("parseFerryConfig: fleets", () => {
  it("accepts clusters: as a list of names, read as { names }", () => {
    const config = parseFerryConfig(
      fleetConfig("name: web\nbranch: main\npath: deploy\nclusters: [eu-1, eu-2]\nnamespace: shop"),
    );
    assert.deepEqual(config.environments, [
      {
        name: "web",
        branch: "main",
        path: "deploy",
        clusters: { names: ["eu-1", "eu-2"] },
        namespace: "shop",
        prune: true,
      },
    ]);
  });

  it("accepts clusters: as a selector, {} included", () => {
    const config = parseFerryConfig(
      fleetConfig(
        `name: web
branch: main
path: deploy
clusters:
  names: [canary]
  matchLabels: {tier: prod}
  matchExpressions:
    - {key: region, operator: In, values: [eu, us]}
    - {key: deprecated, operator: DoesNotExist}
namespace: shop`,
        "name: all\nbranch: main\npath: deploy\nclusters: {}\nnamespace: shop",
      ),
    );
    assert.deepEqual(config.environments[0]?.clusters, {
      names: ["canary"],
      matchLabels: { tier: "prod" },
      matchExpressions: [
        { key: "region", operator: "In", values: ["eu", "us"] },
        { key: "deprecated", operator: "DoesNotExist" },
      ],
    });
    assert.deepEqual(config.environments[1]?.clusters, {});
  });

  it("needs exactly one of cluster: and clusters:", () => {
    const lines = errorLines(
      fleetConfig(
        "name: a\nbranch: main\npath: x\nnamespace: shop",
        "name: b\nbranch: main\npath: x\ncluster: c\nclusters: [c]\nnamespace: shop",
      ),
    );
    assert.deepEqual(lines, [
      ".ferry.yml:3:5: environments.0.cluster: give either cluster: <name> or clusters: <selector>",
      ".ferry.yml:11:15: environments.1.clusters: give either cluster: or clusters:, not both",
    ]);
  });

  it("reports selector mistakes where they stand", () => {
    const lines = errorLines(
      fleetConfig(
        "name: a\nbranch: main\npath: x\nclusters: eu-1\nnamespace: shop",
        "name: b\nbranch: main\npath: x\nclusters: []\nnamespace: shop",
        `name: c
branch: main
path: x
clusters:
  matchLabels: {Tier!: prod}
  matchExpressions: [{key: region, operator: In}, {key: gpu, operator: Exists, values: ["yes"]}]
namespace: shop`,
      ),
    );
    assert.deepEqual(lines, [
      ".ferry.yml:6:15: environments.0.clusters: must be a list of cluster names or a selector { names, matchLabels, matchExpressions }",
      ".ferry.yml:11:15: environments.1.clusters: Too small: expected array to have >=1 items",
      '.ferry.yml:17:28: environments.2.clusters.matchLabels.Tier!: "Tier!" must be a label key: an optional DNS subdomain prefix and /, then a name of at most 63 letters, digits, -, _ or . that starts and ends with a letter or digit',
      ".ferry.yml:18:26: environments.2.clusters.matchExpressions.0.values: In needs at least one value",
      ".ferry.yml:18:92: environments.2.clusters.matchExpressions.1.values: Exists takes no values",
    ]);
  });

  it("accepts a rollout in waves, naming unnamed waves wave-<n>", () => {
    const config = parseFerryConfig(
      fleetConfig(`name: web
branch: main
path: deploy
clusters: {matchLabels: {tier: prod}}
namespace: shop
rollout:
  waves:
    - {name: canary, clusters: [eu-1], approval: true}
    - {clusters: {matchLabels: {region: eu}}, maxParallel: 25%, failureBudget: 1, pause: 24h}
    - {maxParallel: 5, failureBudget: 10%}`),
    );
    assert.deepEqual(config.environments[0]?.rollout, {
      waves: [
        { name: "canary", clusters: { names: ["eu-1"] }, approval: true },
        {
          name: "wave-2",
          clusters: { matchLabels: { region: "eu" } },
          maxParallel: "25%",
          failureBudget: 1,
          pause: "24h",
        },
        { name: "wave-3", maxParallel: 5, failureBudget: "10%" },
      ],
    });
  });

  it("refuses bad wave settings, naming the field", () => {
    const lines = errorLines(
      fleetConfig(`name: web
branch: main
path: deploy
clusters: {}
namespace: shop
rollout:
  waves:
    - {name: Canary, clusters: [eu-1], maxParallel: 0, failureBudget: -1}
    - {clusters: [eu-2], maxParallel: 0%, failureBudget: 101%, pause: 25h}
    - {clusters: [eu-3], maxParallel: 1.5, failureBudget: many, pause: soon}
    - {clusters: [eu-4], maxParallel: "50", approval: maybe, colour: red}`),
    );
    assert.deepEqual(lines, [
      ".ferry.yml:10:18: environments.0.rollout.waves.0.name: must be a DNS label (lower-case letters, digits, -)",
      ".ferry.yml:10:57: environments.0.rollout.waves.0.maxParallel: must be at least 1",
      ".ferry.yml:10:75: environments.0.rollout.waves.0.failureBudget: must be at least 0",
      ".ferry.yml:11:43: environments.0.rollout.waves.1.maxParallel: must be a percentage from 1% to 100%",
      ".ferry.yml:11:62: environments.0.rollout.waves.1.failureBudget: must be a percentage from 0% to 100%",
      ".ferry.yml:11:75: environments.0.rollout.waves.1.pause: must be more than 0s and at most 24h",
      ".ferry.yml:12:43: environments.0.rollout.waves.2.maxParallel: must be a whole number of at least 1 or a percentage such as 25%",
      ".ferry.yml:12:63: environments.0.rollout.waves.2.failureBudget: must be a whole number or a percentage such as 10%",
      ".ferry.yml:12:76: environments.0.rollout.waves.2.pause: must be a duration such as 30s, 5m or 1h30m",
      ".ferry.yml:13:43: environments.0.rollout.waves.3.maxParallel: must be a whole number of at least 1 or a percentage such as 25%",
      ".ferry.yml:13:59: environments.0.rollout.waves.3.approval: Invalid input: expected boolean, received string",
      '.ferry.yml:13:11: environments.0.rollout.waves.3: Unrecognized key: "colour"',
    ]);
  });

  it("refuses a wave without clusters: unless it is the last, gates on the last wave, pause with approval, and duplicate names", () => {
    const lines = errorLines(
      fleetConfig(`name: web
branch: main
path: deploy
clusters: {}
namespace: shop
rollout:
  waves:
    - {pause: 5m}
    - {name: wave-1, clusters: [eu-2], pause: 5m, approval: true}
    - {clusters: [eu-3], pause: 1h, approval: true}`),
    );
    assert.deepEqual(lines, [
      ".ferry.yml:10:11: environments.0.rollout.waves.0.clusters: only the last wave may leave out clusters: (it takes the rest)",
      '.ferry.yml:11:18: environments.0.rollout.waves.1.name: duplicate wave name "wave-1"',
      ".ferry.yml:11:65: environments.0.rollout.waves.1.approval: give pause or approval, not both",
      ".ferry.yml:12:37: environments.0.rollout.waves.2.pause: the last wave cannot pause: no wave follows it",
      ".ferry.yml:12:51: environments.0.rollout.waves.2.approval: the last wave cannot ask for approval: no wave follows it",
    ]);
  });

  it("refuses an empty rollout, and a rollout without clusters:", () => {
    const lines = errorLines(
      fleetConfig(
        "name: a\nbranch: main\npath: x\nclusters: {}\nnamespace: shop\nrollout: {waves: []}",
        "name: b\nbranch: main\npath: x\ncluster: c\nnamespace: shop\nrollout: {waves: [{}]}",
      ),
    );
    assert.deepEqual(lines, [
      ".ferry.yml:8:22: environments.0.rollout.waves: Too small: expected array to have >=1 items",
      ".ferry.yml:14:14: environments.1.rollout: rollout needs clusters: (one cluster is released at once)",
    ]);
  });

  it("accepts a single last wave without clusters:, and approval: false on the last wave", () => {
    const config = parseFerryConfig(
      fleetConfig(
        "name: a\nbranch: main\npath: x\nclusters: {}\nnamespace: shop\nrollout: {waves: [{approval: false}]}",
      ),
    );
    assert.deepEqual(config.environments[0]?.rollout, { waves: [{ name: "wave-1", approval: false }] });
  });

  it("keeps the wait timeout at an hour at most while pauses go to 24h", () => {
    const lines = errorLines(
      fleetConfig("name: a\nbranch: main\npath: x\ncluster: c\nnamespace: shop\nwait: {timeout: 24h}"),
    );
    assert.deepEqual(lines, [".ferry.yml:8:21: environments.0.wait.timeout: must be more than 0s and at most 1h"]);
  });
});

describe("parseFerryConfig: after", () => {
  const env = (name: string, branch: string, after?: string) =>
    `name: ${name}\nbranch: ${branch}\npath: x\ncluster: c\nnamespace: shop${after === undefined ? "" : `\nafter: ${after}`}`;

  it("accepts a chain of environments of one branch", () => {
    const config = parseFerryConfig(
      fleetConfig(env("dev", "main"), env("staging", "main", "dev"), env("prod", "main", "staging")),
    );
    assert.deepEqual(
      config.environments.map((e) => e.after),
      [undefined, "dev", "staging"],
    );
  });

  it("refuses after: naming another branch's environment, itself, or closing a cycle", () => {
    const lines = errorLines(
      fleetConfig(
        env("staging", "release"),
        env("production", "main", "staging"),
        env("loop", "main", "loop"),
        env("a", "main", "b"),
        env("b", "main", "a"),
      ),
    );
    assert.deepEqual(lines, [
      ".ferry.yml:13:12: environments.1.after: staging is deployed from branch release, not main: promotion waits for the same commit",
      ".ferry.yml:19:12: environments.2.after: loop cannot wait for itself",
      ".ferry.yml:25:12: environments.3.after: environments wait for each other in a cycle: a → b → a",
    ]);
  });
});

describe("parseFerryConfig: cluster templates", () => {
  it("accepts ${cluster.name} and ${cluster.labels.<key>} in path, namespace and Helm values, and $${ for a literal ${", () => {
    const config = parseFerryConfig(
      fleetConfig(`name: web
branch: main
path: deploy/\${cluster.labels.region}
clusters: {matchLabels: {tier: prod}}
namespace: shop-\${cluster.labels.topology.kubernetes.io/zone}
helm:
  valuesFiles: ["values-\${cluster.name}.yaml"]
  values: {cluster: "\${cluster.name}", hosts: ["\${cluster.name}.example.com"], script: "echo $\${HOME}", replicas: 3}`),
    );
    const [web] = config.environments;
    assert.equal(web?.path, "deploy/${cluster.labels.region}");
    assert.equal(web?.namespace, "shop-${cluster.labels.topology.kubernetes.io/zone}");
    assert.deepEqual(web?.helm, {
      valuesFiles: ["values-${cluster.name}.yaml"],
      values: {
        cluster: "${cluster.name}",
        hosts: ["${cluster.name}.example.com"],
        script: "echo $${HOME}",
        replicas: 3,
      },
    });
  });

  it("accepts templates with cluster: too", () => {
    assert.equal(
      parseFerryConfig(
        fleetConfig("name: web\nbranch: main\npath: deploy/${cluster.name}\ncluster: eu-1\nnamespace: shop"),
      ).environments[0]?.path,
      "deploy/${cluster.name}",
    );
  });

  it("refuses any other ${...}, naming the field, Helm values included", () => {
    const allowed = "only ${cluster.name} and ${cluster.labels.<key>} are allowed (write $${ for a literal ${)";
    const lines = errorLines(
      fleetConfig(`name: web
branch: main
path: deploy/\${env}
cluster: c
namespace: \${cluster.namespace}
helm:
  valuesFiles: ["\${cluster.labels.Bad Key}.yaml"]
  values: {image: {tag: "\${sha}"}, hosts: [ok, "\${cluster.name"]}`),
    );
    assert.deepEqual(lines, [
      `.ferry.yml:5:11: environments.0.path: unknown template \${env}: ${allowed}`,
      `.ferry.yml:7:16: environments.0.namespace: unknown template \${cluster.namespace}: ${allowed}`,
      '.ferry.yml:9:21: environments.0.helm.valuesFiles.0: ${cluster.labels.Bad Key}: "Bad Key" is not a label key',
      `.ferry.yml:10:29: environments.0.helm.values.image.tag: unknown template \${sha}: ${allowed}`,
      `.ferry.yml:10:52: environments.0.helm.values.hosts.1: unclosed \${: ${allowed}`,
    ]);
  });

  it("checks a templated namespace and path with the templates filled by a placeholder", () => {
    const lines = errorLines(
      fleetConfig(
        "name: a\nbranch: main\npath: /deploy/${cluster.name}\ncluster: c\nnamespace: Shop-${cluster.name}",
        `name: b\nbranch: main\npath: x\ncluster: c\nnamespace: ${"n".repeat(62)}-\${cluster.name}`,
        "name: c\nbranch: main\npath: x\ncluster: c\nnamespace: ${cluster.name}-",
        "name: d\nbranch: main\npath: x\ncluster: c\nnamespace: shop\nhelm: {valuesFiles: ['../${cluster.name}.yaml']}",
      ),
    );
    assert.deepEqual(lines, [
      ".ferry.yml:5:11: environments.0.path: must be a relative path inside the repository (no leading /, no ..)",
      ".ferry.yml:7:16: environments.0.namespace: must be a DNS label (lower-case letters, digits, -)",
      ".ferry.yml:12:16: environments.1.namespace: must be at most 63 characters",
      ".ferry.yml:17:16: environments.2.namespace: must be a DNS label (lower-case letters, digits, -)",
      ".ferry.yml:23:26: environments.3.helm.valuesFiles.0: must be a relative path inside the chart's directory (no leading /, no ..)",
    ]);
  });

  it("reads reconcile settings, defaulting to every 10m reporting drift, and raises an interval below the server's floor", () => {
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
    reconcile: {interval: 30s, drift: heal}
  - name: c
    branch: main
    path: x
    cluster: c
    namespace: shop
    reconcile: {interval: 1h, drift: ignore, watch: false}
`);
    const [a, b, c] = config.environments;
    assert.ok(a && b && c);
    const server = serverConfigSchema.parse({});
    assert.deepEqual([driftMode(a), driftMode(b), driftMode(c)], ["report", "heal", "ignore"]);
    assert.deepEqual(reconcileInterval(a, server), { everyMs: 600_000 });
    assert.deepEqual(reconcileInterval(b, server), { everyMs: 60_000, raisedFrom: "30s" }, "the default floor is 1m");
    assert.deepEqual(reconcileInterval(c, server), { everyMs: 3_600_000 });
    const lenient = serverConfigSchema.parse({ reconcile: { minInterval: "1s", defaultInterval: "5m" } });
    assert.deepEqual(reconcileInterval(a, lenient), { everyMs: 300_000 });
    assert.deepEqual(reconcileInterval(b, lenient), { everyMs: 30_000 });
  });

  it("reads freeze windows and refuses one naming an environment that is not declared", () => {
    const lines = errorLines(`version: 1
environments:
  - name: production
    branch: main
    path: x
    cluster: c
    namespace: shop
freeze:
  - cron: "0 18 * * 5"
    duration: 62h
    environments: [production, prod]
`);
    assert.deepEqual(lines, ['.ferry.yml:11:32: freeze.0.environments.1: no environment "prod" is declared']);
  });

  it("refuses reconcile.watch with drift: ignore, and bad reconcile settings, naming the field", () => {
    const lines = errorLines(`version: 1
environments:
  - name: a
    branch: main
    path: x
    cluster: c
    namespace: shop
    reconcile: {watch: true, drift: ignore}
  - name: b
    branch: main
    path: x
    cluster: c
    namespace: shop
    reconcile: {interval: 2d, drift: fix}
`);
    assert.deepEqual(lines, [
      ".ferry.yml:8:24: environments.0.reconcile.watch: reconcile.watch looks for drift, which drift: ignore turns off: drop one of them",
      ".ferry.yml:14:27: environments.1.reconcile.interval: must be more than 0s and at most 24h",
      '.ferry.yml:14:38: environments.1.reconcile.drift: Invalid option: expected one of "report"|"heal"|"ignore"',
    ]);
  });

  it("reads the deployment block and refuses unknown keys and URLs that are not http(s)", () => {
    const config = parseFerryConfig(`version: 1
environments:
  - name: a
    branch: main
    path: x
    cluster: c
    namespace: shop
    deployment: {url: "https://shop.example.com", production: true, transient: false}
`);
    assert.deepEqual(config.environments[0]?.deployment, {
      url: "https://shop.example.com",
      production: true,
      transient: false,
    });
    const lines = errorLines(`version: 1
environments:
  - name: a
    branch: main
    path: x
    cluster: c
    namespace: shop
    deployment: {url: "ftp://x", autoInactive: true}
`);
    assert.deepEqual(lines, [
      ".ferry.yml:8:23: environments.0.deployment.url: must be an http:// or https:// URL",
      '.ferry.yml:8:17: environments.0.deployment: Unrecognized key: "autoInactive"',
    ]);
  });
});
