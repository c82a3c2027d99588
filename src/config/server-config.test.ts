import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { FerryError } from "../errors.js";
import { loadServerConfig, parseServerConfig } from "./server-config.js";

/** The error lines `parseServerConfig` throws for `text`. */
function errorLines(text: string): string[] {
  try {
    parseServerConfig(text, "ferry.yaml");
  } catch (error) {
    assert.ok(error instanceof FerryError, `expected a FerryError, got ${String(error)}`);
    assert.equal(error.kind, "permanent");
    return error.message.split("\n");
  }
  assert.fail("expected parseServerConfig to throw");
}

const valid = `publicUrl: https://ferry.example.com
clusters:
  - name: staging
    context: kind-staging
    labels: {env: staging}
  - name: prod
    inCluster: true
policy:
  - repositories: ["acme/*"]
    clusters: [staging]
    namespaces: ["shop-*"]
  - repositories: ["acme/platform"]
    clusters: ["*"]
    namespaces: ["*"]
    clusterScopedKinds: [Namespace, CustomResourceDefinition]
`;

describe("parseServerConfig", () => {
  it("accepts a valid config and fills in defaults", () => {
    assert.deepEqual(parseServerConfig(valid, "ferry.yaml"), {
      publicUrl: "https://ferry.example.com",
      clusters: [
        { name: "staging", context: "kind-staging", inCluster: false, agent: false, labels: { env: "staging" } },
        { name: "prod", inCluster: true, agent: false, labels: {} },
      ],
      agentTimeout: "1m",
      forkPlans: [],
      freeze: [],
      gitlab: { projectSecrets: {} },
      policy: [
        { repositories: ["acme/*"], clusters: ["staging"], namespaces: ["shop-*"], clusterScopedKinds: [] },
        {
          repositories: ["acme/platform"],
          clusters: ["*"],
          namespaces: ["*"],
          clusterScopedKinds: ["Namespace", "CustomResourceDefinition"],
        },
      ],
      reconcile: { minInterval: "1m", defaultInterval: "10m", watchCacheLimit: "256Mi" },
      audit: { retention: "400d" },
      sops: { keys: [] },
    });
  });

  it("reads the reconcile floor and default, refusing what is not a duration", () => {
    assert.deepEqual(parseServerConfig("reconcile:\n  minInterval: 5s\n", "ferry.yaml").reconcile, {
      minInterval: "5s",
      defaultInterval: "10m",
      watchCacheLimit: "256Mi",
    });
    assert.deepEqual(errorLines("reconcile:\n  minInterval: 0s\n  defaultInterval: soon\n"), [
      "ferry.yaml:2:16: reconcile.minInterval: must be more than 0s and at most 24h",
      "ferry.yaml:3:20: reconcile.defaultInterval: must be a duration such as 30s, 5m or 1h30m",
    ]);
  });

  it("reads the watch caches' limit as a size, refusing what is not one", () => {
    assert.equal(
      parseServerConfig("reconcile:\n  watchCacheLimit: 1Gi\n", "ferry.yaml").reconcile.watchCacheLimit,
      "1Gi",
    );
    assert.deepEqual(errorLines("reconcile:\n  watchCacheLimit: 1GB\n"), [
      "ferry.yaml:2:20: reconcile.watchCacheLimit: must be a size such as 512Mi or 1Gi (bytes, Ki, Mi or Gi)",
    ]);
  });

  it("reads the audit retention (400d by default), refusing what is not a duration or is out of bounds", () => {
    assert.deepEqual(parseServerConfig("audit:\n  retention: 90d\n", "ferry.yaml").audit, { retention: "90d" });
    assert.deepEqual(errorLines("audit:\n  retention: 400\n"), [
      "ferry.yaml:2:14: audit.retention: must be a duration such as 30s, 5m or 1h30m",
    ]);
    assert.deepEqual(errorLines("audit:\n  retention: 12h\n"), [
      "ferry.yaml:2:14: audit.retention: must be at least 1d: audit records are evidence, kept for days, not hours",
    ]);
    assert.deepEqual(errorLines("audit:\n  retention: 4000d\n"), [
      "ferry.yaml:2:14: audit.retention: must be more than 0s and at most 3650d",
    ]);
    assert.deepEqual(errorLines("audit:\n  keep: 1d\n"), ['ferry.yaml:2:3: audit: Unrecognized key: "keep"']);
  });

  it("refuses a cluster with neither a context nor inCluster", () => {
    assert.deepEqual(errorLines("clusters:\n  - name: staging\n"), [
      "ferry.yaml:2:5: clusters.0: give either a kubeconfig context or inCluster: true",
    ]);
  });

  it("refuses a cluster with both a context and inCluster", () => {
    assert.deepEqual(errorLines("clusters:\n  - name: staging\n    context: x\n    inCluster: true\n"), [
      "ferry.yaml:2:5: clusters.0: give either a kubeconfig context or inCluster: true",
    ]);
  });

  it("accepts an agent cluster with no credentials, and the agent timeout", () => {
    const config = parseServerConfig(
      "agentTimeout: 90s\nclusters:\n  - name: edge-0042\n    agent: true\n    labels: {site: store-42}\n",
      "ferry.yaml",
    );
    assert.deepEqual(config.clusters, [
      { name: "edge-0042", agent: true, inCluster: false, labels: { site: "store-42" } },
    ]);
    assert.equal(config.agentTimeout, "90s");
  });

  it("refuses an agent cluster with credentials or a name unfit for a Redis ACL, and a bad agent timeout", () => {
    assert.deepEqual(
      errorLines(
        "agentTimeout: 2h\nclusters:\n  - name: edge-1\n    agent: true\n    context: x\n  - name: 'edge*'\n    agent: true\n",
      ),
      [
        "ferry.yaml:4:12: clusters.0.agent: an agent cluster is reached through its agent: give no context, kubeconfig or inCluster",
        "ferry.yaml:6:11: clusters.1.name: an agent cluster's name must be lowercase letters, digits, '-' and '.' (at most 63)",
        "ferry.yaml:1:15: agentTimeout: must be more than 0s and at most 1h",
      ],
    );
  });

  it("refuses a policy naming a cluster that is not registered", () => {
    const lines = errorLines(`clusters:
  - name: staging
    context: x
policy:
  - repositories: ["acme/*"]
    clusters: [staging, prod]
    namespaces: ["*"]
`);
    assert.deepEqual(lines, ['ferry.yaml:6:25: policy.0.clusters.1: no cluster named "prod"']);
  });

  it("accepts Kubernetes label keys and values on clusters", () => {
    const config = parseServerConfig(
      `clusters:
  - name: eu-1
    context: eu-1
    labels: {region: eu, topology.kubernetes.io/zone: eu-1a, Tier_2: "", ferry.dev/wave: "1"}
`,
      "ferry.yaml",
    );
    assert.deepEqual(config.clusters[0]?.labels, {
      region: "eu",
      "topology.kubernetes.io/zone": "eu-1a",
      Tier_2: "",
      "ferry.dev/wave": "1",
    });
  });

  it("refuses bad label keys and values, each at its entry", () => {
    const lines = errorLines(`clusters:
  - name: eu-1
    context: eu-1
    labels:
      "bad key": x
      Example.com/zone: a
      region: -eu
      tier: ${"x".repeat(64)}
`);
    assert.deepEqual(
      lines.map((l) => l.split(" must ")[0]),
      [
        'ferry.yaml:5:18: clusters.0.labels.bad key: "bad key"',
        'ferry.yaml:6:25: clusters.0.labels.Example.com/zone: "Example.com/zone"',
        'ferry.yaml:7:15: clusters.0.labels.region: "-eu"',
        `ferry.yaml:8:13: clusters.0.labels.tier: "${"x".repeat(64)}"`,
      ],
    );
    assert.match(
      lines[0] ?? "",
      /must be a label key: an optional DNS subdomain prefix and \/, then a name of at most 63 letters/,
    );
    assert.match(lines[2] ?? "", /must be a label value: empty, or at most 63 letters, digits, -, _ or \./);
  });

  it("refuses a cluster name given twice", () => {
    assert.deepEqual(
      errorLines(
        "clusters:\n  - {name: eu-1, context: a}\n  - {name: eu-2, context: b}\n  - {name: eu-1, context: c}\n",
      ),
      ['ferry.yaml:4:12: clusters.2.name: duplicate cluster "eu-1"'],
    );
  });

  it("accepts policy rules by clusterSelector, by clusters, or both", () => {
    const config = parseServerConfig(
      `clusters:
  - {name: eu-1, context: a, labels: {region: eu}}
policy:
  - repositories: ["acme/*"]
    clusterSelector: {matchLabels: {region: eu}}
    namespaces: [shop]
  - repositories: ["acme/*"]
    clusters: [eu-1]
    clusterSelector: {matchExpressions: [{key: tier, operator: Exists}]}
    namespaces: [web]
`,
      "ferry.yaml",
    );
    assert.deepEqual(config.policy, [
      {
        repositories: ["acme/*"],
        clusterSelector: { matchLabels: { region: "eu" } },
        namespaces: ["shop"],
        clusterScopedKinds: [],
      },
      {
        repositories: ["acme/*"],
        clusters: ["eu-1"],
        clusterSelector: { matchExpressions: [{ key: "tier", operator: "Exists" }] },
        namespaces: ["web"],
        clusterScopedKinds: [],
      },
    ]);
  });

  it("refuses a policy rule with neither clusters nor clusterSelector, a bad selector, or unregistered names in it", () => {
    const lines = errorLines(`clusters:
  - {name: eu-1, context: a}
policy:
  - repositories: ["acme/*"]
    namespaces: [shop]
  - repositories: ["acme/*"]
    clusterSelector: [eu-1]
    namespaces: [shop]
  - repositories: ["acme/*"]
    clusterSelector: {names: [eu-1, eu-9], matchExpressions: [{key: region, operator: In}]}
    namespaces: [shop]
`);
    assert.deepEqual(lines, [
      "ferry.yaml:4:5: policy.0.clusters: give clusters: [names or *], clusterSelector: {...}, or both",
      "ferry.yaml:7:22: policy.1.clusterSelector: Invalid input: expected object, received array",
      "ferry.yaml:10:63: policy.2.clusterSelector.matchExpressions.0.values: In needs at least one value",
    ]);
    assert.deepEqual(
      errorLines(`clusters:
  - {name: eu-1, context: a}
policy:
  - repositories: ["acme/*"]
    clusterSelector: {names: [eu-1, eu-9]}
    namespaces: [shop]
`),
      ['ferry.yaml:5:37: policy.0.clusterSelector.names.1: no cluster named "eu-9"'],
    );
  });
});

describe("loadServerConfig", () => {
  it("fails with a clear permanent error when the file is missing", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "ferry-server-config-"));
    try {
      const file = path.join(dir, "missing.yaml");
      await assert.rejects(loadServerConfig(file), (error: unknown) => {
        assert.ok(error instanceof FerryError);
        assert.equal(error.kind, "permanent");
        assert.equal(error.message, `cannot read server config ${file}: ENOENT`);
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("reads and validates a file", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "ferry-server-config-"));
    try {
      const file = path.join(dir, "ferry.yaml");
      await writeFile(file, valid);
      const config = await loadServerConfig(file);
      assert.deepEqual(
        config.clusters.map((c) => c.name),
        ["staging", "prod"],
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("gives an empty config when there is no file", async () => {
    assert.deepEqual(await loadServerConfig(undefined), {
      clusters: [],
      agentTimeout: "1m",
      forkPlans: [],
      freeze: [],
      gitlab: { projectSecrets: {} },
      policy: [],
      reconcile: { minInterval: "1m", defaultInterval: "10m", watchCacheLimit: "256Mi" },
      audit: { retention: "400d" },
      sops: { keys: [] },
    });
  });
});
