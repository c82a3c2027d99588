import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseFerryConfig, type DeclaredEnvironment } from "../config/ferry-config.js";
import { FerryError } from "../errors.js";
import { environmentFor } from "./environment-for-cluster.js";

/** The one environment of a `.ferry.yml` whose environment entry is `yaml` (indented 4). */
function declared(yaml: string): DeclaredEnvironment {
  const config = parseFerryConfig(`version: 1\nenvironments:\n  - ${yaml.trim().replace(/\n/g, "\n    ")}\n`);
  const [env] = config.environments;
  assert.ok(env);
  return env;
}

/** The lines of the permanent FerryError `fn` throws. */
function errorLines(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof FerryError, `expected a FerryError, got ${String(error)}`);
    assert.equal(error.kind, "permanent");
    return error.message.split("\n");
  }
  assert.fail("expected a permanent FerryError");
}

const eu1 = { name: "eu-1", labels: { region: "eu", "topology.kubernetes.io/zone": "eu-1a", Tier: "Prod", empty: "" } };

describe("environmentFor", () => {
  it("fills in the cluster's name and labels in path, namespace, values files and every string of Helm values", () => {
    const env = declared(`name: web
branch: main
path: deploy/\${cluster.labels.region}
clusters: {matchLabels: {tier: prod}}
namespace: shop-\${cluster.labels.topology.kubernetes.io/zone}
prune: false
rollout: {waves: [{clusters: [eu-1]}, {}]}
helm:
  releaseName: web
  valuesFiles: [values.yaml, "values-\${cluster.name}.yaml"]
  values:
    cluster: \${cluster.name}
    ingress: {hosts: ["web.\${cluster.labels.region}.example.com", "\${cluster.name}.example.com"], enabled: true}
    replicas: 3
    nothing: null
    script: echo $\${HOME} on \${cluster.name}`);
    assert.deepEqual(environmentFor(env, eu1), {
      name: "web",
      branch: "main",
      path: "deploy/eu",
      cluster: "eu-1",
      namespace: "shop-eu-1a",
      prune: false,
      helm: {
        releaseName: "web",
        valuesFiles: ["values.yaml", "values-eu-1.yaml"],
        values: {
          cluster: "eu-1",
          ingress: { hosts: ["web.eu.example.com", "eu-1.example.com"], enabled: true },
          replicas: 3,
          nothing: null,
          script: "echo ${HOME} on eu-1",
        },
      },
    });
    assert.equal(env.path, "deploy/${cluster.labels.region}", "the declared environment is left as it was");
    assert.deepEqual((env.helm?.values?.ingress as { hosts: string[] }).hosts, [
      "web.${cluster.labels.region}.example.com",
      "${cluster.name}.example.com",
    ]);
  });

  it("resolves an environment of one cluster, templates and all", () => {
    const env = declared(
      "name: web\nbranch: main\npath: deploy/${cluster.name}\ncluster: eu-1\nnamespace: shop\nwait: false",
    );
    assert.deepEqual(environmentFor(env, eu1), {
      name: "web",
      branch: "main",
      path: "deploy/eu-1",
      cluster: "eu-1",
      namespace: "shop",
      prune: true,
      wait: false,
    });
  });

  it("keeps an environment without templates as it is, minus clusters and rollout", () => {
    const env = declared(
      "name: web\nbranch: main\npath: deploy\nclusters: [eu-1]\nnamespace: shop\nrollout: {waves: [{}]}",
    );
    assert.deepEqual(environmentFor(env, eu1), {
      name: "web",
      branch: "main",
      path: "deploy",
      cluster: "eu-1",
      namespace: "shop",
      prune: true,
    });
  });

  it("refuses a cluster without a label a template reads, naming environment, cluster, label and field, every one at once", () => {
    const env = declared(`name: web
branch: main
path: deploy/\${cluster.labels.region}/\${cluster.labels.country}
clusters: {}
namespace: shop-\${cluster.labels.country}
helm:
  valuesFiles: ["\${cluster.labels.size}.yaml"]
  values: {hosts: [a, "\${cluster.labels.domain}"]}`);
    assert.deepEqual(
      errorLines(() => environmentFor(env, eu1)),
      [
        'environment web: cluster "eu-1" has no label "country" (used in path)',
        'environment web: cluster "eu-1" has no label "country" (used in namespace)',
        'environment web: cluster "eu-1" has no label "size" (used in helm.valuesFiles.0)',
        'environment web: cluster "eu-1" has no label "domain" (used in helm.values.hosts.1)',
      ],
    );
  });

  it("refuses a namespace that is no DNS label once filled in", () => {
    const at = (namespace: string) => () =>
      environmentFor(declared(`name: web\nbranch: main\npath: x\nclusters: {}\nnamespace: ${namespace}`), eu1);
    assert.deepEqual(errorLines(at("shop-${cluster.labels.Tier}")), [
      'environment web: cluster "eu-1": namespace "shop-Prod" is not a DNS label of at most 63 characters (lower-case letters, digits, -)',
    ]);
    assert.deepEqual(errorLines(at("shop-${cluster.labels.empty}")), [
      'environment web: cluster "eu-1": namespace "shop-" is not a DNS label of at most 63 characters (lower-case letters, digits, -)',
    ]);
    const long = { name: "c".repeat(60), labels: {} };
    assert.throws(
      () =>
        environmentFor(
          declared("name: web\nbranch: main\npath: x\nclusters: {}\nnamespace: shop-${cluster.name}"),
          long,
        ),
      /is not a DNS label of at most 63 characters/,
    );
  });

  it("refuses a path or values file that leaves its root once filled in", () => {
    const env = declared(`name: web
branch: main
path: deploy/.\${cluster.labels.empty}.
clusters: {}
namespace: shop
helm: {valuesFiles: ["\${cluster.name}/values.yaml"]}`);
    assert.deepEqual(
      errorLines(() => environmentFor(env, { name: "..", labels: { empty: "" } })),
      [
        'environment web: cluster "..": path "deploy/.." leaves the repository',
        'environment web: cluster "..": helm.valuesFiles.0 "../values.yaml" leaves the chart\'s directory',
      ],
    );
  });
});
