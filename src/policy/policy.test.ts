import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Environment } from "../config/ferry-config.js";
import { serverConfigSchema, type ServerConfig } from "../config/server-config.js";
import { FerryError } from "../errors.js";
import type { ObjectRef } from "../kube/object-ref.js";
import { globMatch, grantFor, policyViolations, type Grant } from "./policy.js";

function env(overrides: Partial<Environment> = {}): Environment {
  return {
    name: "staging",
    branch: "main",
    path: "deploy",
    cluster: "staging",
    namespace: "shop",
    prune: true,
    ...overrides,
  };
}

function serverConfig(input: unknown): ServerConfig {
  return serverConfigSchema.parse(input);
}

/** Asserts `fn` throws a permanent FerryError whose message matches `pattern`. */
function assertPermanent(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof FerryError);
    assert.equal(error.kind, "permanent");
    assert.match(error.message, pattern);
    return true;
  });
}

describe("globMatch", () => {
  it("matches every repository of an owner with acme/*", () => {
    assert.equal(globMatch("acme/*", "acme/web"), true);
    assert.equal(globMatch("acme/*", "acme/"), true);
    assert.equal(globMatch("acme/*", "acmeco/web"), false);
    assert.equal(globMatch("acme/*", "other/acme"), false);
  });

  it("matches anything with *", () => {
    assert.equal(globMatch("*", "acme/web"), true);
    assert.equal(globMatch("*", ""), true);
  });

  it("matches literal text exactly, with dots and other regex characters not special", () => {
    assert.equal(globMatch("shop", "shop"), true);
    assert.equal(globMatch("shop", "shop-2"), false);
    assert.equal(globMatch("acme/web.app", "acme/web.app"), true);
    assert.equal(globMatch("acme/web.app", "acme/webxapp"), false);
    assert.equal(globMatch("a+b", "aab"), false);
    assert.equal(globMatch("a+b", "a+b"), true);
    assert.equal(globMatch("shop-*", "shop-eu"), true);
    assert.equal(globMatch("shop-*", "shopeu"), false);
  });
});

describe("grantFor", () => {
  const config = serverConfig({
    clusters: [
      { name: "staging", context: "kind-staging" },
      { name: "prod", context: "kind-prod" },
    ],
    policy: [
      { repositories: ["acme/*"], clusters: ["staging"], namespaces: ["shop", "shop-*"] },
      {
        repositories: ["acme/shop"],
        clusters: ["*"],
        namespaces: ["monitoring"],
        clusterScopedKinds: ["CustomResourceDefinition"],
      },
      { repositories: ["acme/shop"], clusters: ["prod"], namespaces: ["shop"] },
    ],
  });

  it("refuses a cluster that is not registered", () => {
    assertPermanent(() => grantFor(config, "acme/shop", env({ cluster: "dev" })), /cluster "dev" is not registered/);
  });

  it("refuses a repository no rule names", () => {
    assertPermanent(
      () => grantFor(config, "evil/shop", env()),
      /policy does not allow evil\/shop to deploy to cluster "staging"/,
    );
  });

  it("refuses a repository a rule names for other clusters only", () => {
    assertPermanent(
      () => grantFor(config, "acme/web", env({ cluster: "prod" })),
      /policy does not allow acme\/web to deploy to cluster "prod"/,
    );
  });

  it("refuses a namespace no rule allows", () => {
    assertPermanent(
      () => grantFor(config, "acme/web", env({ namespace: "kube-system" })),
      /namespace "kube-system" on cluster "staging"/,
    );
  });

  it("merges the grants of every rule naming the repository and cluster", () => {
    assert.deepEqual(grantFor(config, "acme/shop", env()), {
      cluster: "staging",
      namespaces: ["shop", "shop-*", "monitoring"],
      clusterScopedKinds: ["CustomResourceDefinition"],
    });
    assert.deepEqual(grantFor(config, "acme/shop", env({ cluster: "prod" })), {
      cluster: "prod",
      namespaces: ["monitoring", "shop"],
      clusterScopedKinds: ["CustomResourceDefinition"],
    });
  });

  it("allows an environment's namespace through a wildcard", () => {
    assert.equal(grantFor(config, "acme/web", env({ namespace: "shop-eu" })).cluster, "staging");
  });
});

describe("grantFor with cluster selectors", () => {
  const config = serverConfig({
    clusters: [
      { name: "eu-1", context: "eu-1", labels: { region: "eu", tier: "prod" } },
      { name: "eu-2", context: "eu-2", labels: { region: "eu", tier: "canary" } },
      { name: "us-1", context: "us-1", labels: { region: "us", tier: "prod" } },
      { name: "lab", context: "lab" },
    ],
    policy: [
      { repositories: ["acme/*"], clusterSelector: { matchLabels: { region: "eu" } }, namespaces: ["shop"] },
      {
        repositories: ["acme/shop"],
        clusterSelector: { matchExpressions: [{ key: "tier", operator: "In", values: ["prod"] }] },
        namespaces: ["monitoring"],
      },
      {
        repositories: ["acme/web"],
        clusters: ["lab"],
        clusterSelector: { matchExpressions: [{ key: "tier", operator: "NotIn", values: ["prod"] }] },
        namespaces: ["web"],
      },
      {
        repositories: ["acme/ops"],
        clusterSelector: { names: ["lab"], matchExpressions: [{ key: "region", operator: "DoesNotExist" }] },
        namespaces: ["ops"],
      },
      { repositories: ["acme/all"], clusterSelector: {}, namespaces: ["*"] },
    ],
  });
  const at = (cluster: string, namespace = "shop") => env({ cluster, namespace });

  it("grants what every rule selecting the cluster by labels gives", () => {
    assert.deepEqual(grantFor(config, "acme/shop", at("eu-1")), {
      cluster: "eu-1",
      namespaces: ["shop", "monitoring"],
      clusterScopedKinds: [],
    });
    assert.deepEqual(grantFor(config, "acme/shop", at("eu-2")).namespaces, ["shop"]);
    assert.deepEqual(grantFor(config, "acme/shop", at("us-1", "monitoring")).namespaces, ["monitoring"]);
  });

  it("refuses a cluster no rule for the repository selects", () => {
    assertPermanent(
      () => grantFor(config, "acme/web", at("us-1", "web")),
      /policy does not allow acme\/web to deploy to cluster "us-1"/,
    );
    assertPermanent(
      () => grantFor(config, "acme/ops", at("us-1", "ops")),
      /policy does not allow acme\/ops to deploy to cluster "us-1"/,
    );
  });

  it("applies a rule when its clusters name the cluster or its selector selects it", () => {
    assert.deepEqual(
      grantFor(config, "acme/web", at("lab", "web")).namespaces,
      ["web"],
      "named, and a cluster without the label is NotIn",
    );
    assert.deepEqual(grantFor(config, "acme/web", at("eu-2", "web")).namespaces, ["shop", "web"], "selected by NotIn");
  });

  it("selects by names or by labels within one selector", () => {
    assert.deepEqual(grantFor(config, "acme/ops", at("lab", "ops")).namespaces, ["ops"]);
  });

  it("selects every cluster with an empty selector", () => {
    for (const cluster of ["eu-1", "eu-2", "us-1", "lab"])
      assert.equal(grantFor(config, "acme/all", at(cluster, "anything")).cluster, cluster);
  });

  it("still refuses an unregistered cluster first", () => {
    assertPermanent(
      () => grantFor(config, "acme/all", at("mars")),
      /^environment staging: cluster "mars" is not registered with Ferry$/,
    );
  });
});

describe("policyViolations", () => {
  const grant: Grant = {
    cluster: "staging",
    namespaces: ["shop", "shop-*"],
    clusterScopedKinds: ["CustomResourceDefinition"],
  };
  const deployment = (namespace: string): ObjectRef => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    namespace,
    name: "web",
  });

  it("allows namespaced objects in allowed namespaces and allowed cluster-scoped kinds", () => {
    assert.deepEqual(
      policyViolations(grant, [
        deployment("shop"),
        deployment("shop-eu"),
        { apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", name: "widgets.acme.io" },
      ]),
      [],
    );
  });

  it("reports namespaced objects outside the allowed namespaces", () => {
    assert.deepEqual(policyViolations(grant, [deployment("shop"), deployment("kube-system")]), [
      'Deployment kube-system/web: policy does not allow namespace "kube-system" on cluster "staging"',
    ]);
  });

  it("reports cluster-scoped kinds the grant does not allow", () => {
    assert.deepEqual(
      policyViolations(grant, [{ apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", name: "admin" }]),
      ['ClusterRole admin: policy does not allow cluster-scoped ClusterRole objects on cluster "staging"'],
    );
  });

  it("lets a Namespace the grant's namespaces cover through without clusterScopedKinds", () => {
    const noKinds: Grant = { ...grant, clusterScopedKinds: [] };
    assert.deepEqual(policyViolations(noKinds, [{ apiVersion: "v1", kind: "Namespace", name: "shop-eu" }]), []);
    assert.deepEqual(policyViolations(noKinds, [{ apiVersion: "v1", kind: "Namespace", name: "kube-system" }]), [
      'Namespace kube-system: policy does not allow cluster-scoped Namespace objects on cluster "staging"',
    ]);
  });

  it("reports every violation, one line each", () => {
    assert.equal(
      policyViolations(grant, [
        deployment("a"),
        deployment("b"),
        { apiVersion: "v1", kind: "PersistentVolume", name: "pv" },
      ]).length,
      3,
    );
  });
});
