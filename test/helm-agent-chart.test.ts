import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CoreV1Api } from "@kubernetes/client-node";
import { byKind, ChartCheck, envOf, podOf, type K8sObject, type Values } from "./support/chart-check.js";
import { createTestNamespace, testKubeConfig } from "./support/kube.js";

const CHART = new URL("../charts/ferry-agent", import.meta.url).pathname;

/** What every install names: the cluster, Ferry's Redis, and the Secret with the agent's secret. */
const REQUIRED: Values = {
  cluster: "edge-0042",
  redis: { url: "rediss://redis.ferry.example.com:6380", existingSecret: "ferry-agent-redis" },
};

function agentContainer(objects: K8sObject[]) {
  const [object] = byKind(objects, "Deployment");
  assert.ok(object, "no Deployment");
  return { object, ...podOf(object) };
}

describe("Helm chart charts/ferry-agent", () => {
  let chart: ChartCheck;
  let namespace: string;
  let deployNamespaces: string[];

  const cases: Array<{ name: string; values: () => Values; check(objects: K8sObject[]): void }> = [
    {
      name: "an agent with cluster-wide RBAC",
      values: () => REQUIRED,
      check(objects) {
        const { object, container, pod } = agentContainer(objects);
        assert.equal(object.spec?.replicas, 1);
        assert.deepEqual(object.spec?.strategy, { type: "Recreate" });
        assert.deepEqual(container.args, ["agent", "--cluster", "edge-0042"]);
        const env = envOf(container);
        assert.equal(env.get("REDIS_URL")?.value, "rediss://redis.ferry.example.com:6380");
        assert.equal(env.get("REDIS_USERNAME")?.value, "ferry-agent-edge-0042");
        assert.deepEqual(env.get("REDIS_PASSWORD")?.valueFrom?.secretKeyRef, {
          name: "ferry-agent-redis",
          key: "password",
        });
        // No forge credential of any kind.
        for (const name of env.keys()) assert.doesNotMatch(name, /GITHUB|GITLAB|APP_ID|PRIVATE_KEY|WEBHOOK/);
        assert.equal(container.readinessProbe.httpGet.path, "/readyz");
        assert.equal(container.livenessProbe.httpGet.path, "/healthz");
        assert.equal(container.securityContext.readOnlyRootFilesystem, true);
        assert.equal(container.securityContext.allowPrivilegeEscalation, false);
        assert.equal((pod.securityContext as { runAsNonRoot: boolean }).runAsNonRoot, true);
        assert.ok(container.resources.requests, "resources are set");
        assert.deepEqual(
          byKind(objects, "ClusterRoleBinding")
            .map((b) => b.metadata.name)
            .sort(),
          ["ferry-agent-cluster", "ferry-agent-deployer"],
        );
        assert.deepEqual(byKind(objects, "RoleBinding"), []);
        assert.deepEqual(
          byKind(objects, "Namespace").map((n) => n.metadata.name),
          ["ferry-validation"],
        );
      },
    },
    {
      name: "RBAC scoped to named namespaces, own user name, TLS off, no validation namespace",
      values: () => ({
        ...REQUIRED,
        redis: { url: "redis://redis:6379", existingSecret: "s", passwordKey: "agent", username: "edge-user" },
        rbac: { namespaces: deployNamespaces, createNamespaces: false },
        validationNamespace: { create: false },
        nodeSelector: { "kubernetes.io/os": "linux" },
        extraEnv: [{ name: "NODE_OPTIONS", value: "--max-old-space-size=256" }],
      }),
      check(objects) {
        const { container, pod } = agentContainer(objects);
        const env = envOf(container);
        assert.equal(env.get("REDIS_USERNAME")?.value, "edge-user");
        assert.deepEqual(env.get("REDIS_PASSWORD")?.valueFrom?.secretKeyRef, { name: "s", key: "agent" });
        assert.equal(env.get("NODE_OPTIONS")?.value, "--max-old-space-size=256");
        assert.deepEqual(pod.nodeSelector, { "kubernetes.io/os": "linux" });
        // The deployer rules hold only in the named namespaces (and ferry-validation).
        assert.deepEqual(
          byKind(objects, "RoleBinding")
            .map((b) => b.metadata.namespace)
            .sort(),
          [...deployNamespaces, "ferry-validation"].sort(),
        );
        assert.deepEqual(
          byKind(objects, "ClusterRoleBinding").map((b) => b.metadata.name),
          ["ferry-agent-cluster"],
        );
        const [clusterRole] = byKind(objects, "ClusterRole").filter((r) => r.metadata.name === "ferry-agent-cluster");
        assert.deepEqual((clusterRole?.rules as Array<{ verbs: string[] }>)[0]?.verbs, ["get", "list", "watch"]);
        assert.deepEqual(byKind(objects, "Namespace"), []);
      },
    },
  ];

  before(async () => {
    chart = await ChartCheck.open(CHART, "ferry-agent");
    const kc = testKubeConfig();
    namespace = await createTestNamespace(kc, "agent-chart");
    deployNamespaces = [await createTestNamespace(kc, "agent-shop"), await createTestNamespace(kc, "agent-shop")];
    await kc
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name: "ferry-validation" } } })
      .catch((error: unknown) => {
        if ((error as { code?: number }).code !== 409) throw error;
      });
  });

  after(async () => chart?.close());

  test("the default values satisfy values.schema.json", () => {
    const { ok, errors } = chart.valid({});
    assert.ok(ok, errors);
  });

  for (const c of cases) {
    test(`${c.name}: schema-valid, lints, renders, and every object passes a server-side dry-run apply`, async () => {
      const { objects, manifest } = await chart.render(namespace, c.values());
      c.check(objects);
      await chart.dryRunApply(manifest, objects.length);
    });
  }

  test("helm refuses values the schema does not allow, as ajv does", async () => {
    const bad: Values[] = [
      { ...REQUIRED, cluster: "Edge_42" },
      { ...REQUIRED, redis: { url: "http://redis:6379", existingSecret: "s" } },
      { ...REQUIRED, heartbeatMs: "10s" },
      { ...REQUIRED, replicas: 2 },
      { ...REQUIRED, github: { existingSecret: "ferry-github" } },
    ];
    await chart.refusesBadValues(bad);
  });

  test("helm refuses an install without its cluster, Redis or secret, saying which", async () => {
    for (const [values, message] of [
      [{ redis: REQUIRED.redis }, /cluster: name the cluster this agent runs in/],
      [{ cluster: "edge-1", redis: { existingSecret: "s" } }, /redis\.url: the agent needs Ferry's Redis/],
      [{ cluster: "edge-1", redis: { url: "redis://r:6379" } }, /redis\.existingSecret: the Secret holding/],
    ] as const) {
      await assert.rejects(chart.template(values), message);
    }
  });
});
