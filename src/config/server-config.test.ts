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
        { name: "staging", context: "kind-staging", inCluster: false, labels: { env: "staging" } },
        { name: "prod", inCluster: true, labels: {} },
      ],
      forkPlans: [],
      gitlab: { projectSecrets: {} },
      policy: [
        { repositories: ["acme/*"], clusters: ["staging"], namespaces: ["shop-*"], clusterScopedKinds: [] },
        { repositories: ["acme/platform"], clusters: ["*"], namespaces: ["*"], clusterScopedKinds: ["Namespace", "CustomResourceDefinition"] },
      ],
    });
  });

  it("refuses a cluster with neither a context nor inCluster", () => {
    assert.deepEqual(errorLines("clusters:\n  - name: staging\n"), ["ferry.yaml:2:5: clusters.0: give either a kubeconfig context or inCluster: true"]);
  });

  it("refuses a cluster with both a context and inCluster", () => {
    assert.deepEqual(errorLines("clusters:\n  - name: staging\n    context: x\n    inCluster: true\n"), [
      "ferry.yaml:2:5: clusters.0: give either a kubeconfig context or inCluster: true",
    ]);
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
    assert.deepEqual(await loadServerConfig(undefined), { clusters: [], forkPlans: [], gitlab: { projectSecrets: {} }, policy: [] });
  });
});
