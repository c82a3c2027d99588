import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CoreV1Api } from "@kubernetes/client-node";
import { parse } from "yaml";
import { parseServerConfig } from "../src/config/server-config.js";
import {
  byKind,
  ChartCheck,
  envOf,
  podOf,
  type Container,
  type K8sObject,
  type Values,
} from "./support/chart-check.js";
import { createTestNamespace, testKubeConfig } from "./support/kube.js";

const CHART = new URL("../charts/ferry", import.meta.url).pathname;

function deployment(
  objects: K8sObject[],
  role: "web" | "worker",
): { object: K8sObject; container: Container; pod: Record<string, unknown> } {
  const object = byKind(objects, "Deployment").find((d) => d.metadata.labels?.["app.kubernetes.io/component"] === role);
  assert.ok(object, `no ${role} Deployment`);
  return { object, ...podOf(object) };
}

describe("Helm chart charts/ferry", () => {
  let chart: ChartCheck;
  let namespace: string;
  /** Namespaces the namespaced-RBAC case grants Ferry. */
  let deployNamespaces: string[];

  /** The values matrix: each case's overrides, and what its rendering must hold. */
  const cases: Array<{ name: string; values: () => Values; check(objects: K8sObject[]): void }> = [
    {
      name: "defaults",
      values: () => ({}),
      check(objects) {
        assert.deepEqual(byKind(objects, "Ingress"), []);
        assert.deepEqual(byKind(objects, "ServiceMonitor"), []);
        const web = deployment(objects, "web");
        const worker = deployment(objects, "worker");
        assert.deepEqual([web.object.spec?.replicas, worker.object.spec?.replicas], [2, 2]);
        assert.deepEqual(web.container.args, ["web", "--config", "/etc/ferry/config/server.yml"]);
        assert.deepEqual(worker.container.args, ["worker", "--config", "/etc/ferry/config/server.yml"]);
        for (const { container, pod } of [web, worker]) {
          assert.equal(container.readinessProbe.httpGet.path, "/readyz");
          assert.equal(container.livenessProbe.httpGet.path, "/healthz");
          assert.equal(container.securityContext.readOnlyRootFilesystem, true);
          assert.equal(container.securityContext.allowPrivilegeEscalation, false);
          assert.equal((pod.securityContext as { runAsNonRoot: boolean }).runAsNonRoot, true);
          assert.equal(envOf(container).get("REDIS_URL")?.value, "redis://redis:6379");
        }
        assert.equal(envOf(worker.container).get("FERRY_CONCURRENCY")?.value, "4");
        assert.notDeepEqual(web.container.resources, worker.container.resources, "resources are set per role");
        // Least privilege: a ClusterRoleBinding for the deployer rules only when no namespaces are named.
        assert.deepEqual(
          byKind(objects, "ClusterRoleBinding")
            .map((b) => b.metadata.name)
            .sort(),
          ["ferry-cluster", "ferry-deployer"],
        );
        assert.deepEqual(byKind(objects, "RoleBinding"), []);
        assert.deepEqual(
          byKind(objects, "PodDisruptionBudget")
            .map((p) => p.metadata.name)
            .sort(),
          ["ferry-web", "ferry-worker"],
        );
        const [service] = byKind(objects, "Service");
        assert.deepEqual((service?.spec?.selector as Record<string, string>)["app.kubernetes.io/component"], "web");
        // Installation creates the validation namespace: plans write nothing, releases only use it.
        assert.deepEqual(
          byKind(objects, "Namespace").map((n) => n.metadata.name),
          ["ferry-validation"],
        );
      },
    },
    {
      name: "Ingress on",
      values: () => ({
        ingress: { enabled: true, className: "nginx", host: "ferry.test.example", tls: { secretName: "ferry-tls" } },
        web: { replicas: 3 },
        worker: { replicas: 5, concurrency: 8 },
      }),
      check(objects) {
        const [ingress] = byKind(objects, "Ingress");
        assert.ok(ingress);
        const spec = ingress.spec as {
          ingressClassName: string;
          tls: Array<{ secretName: string }>;
          rules: Array<{ host: string; http: { paths: Array<{ path: string }> } }>;
        };
        assert.equal(spec.ingressClassName, "nginx");
        assert.equal(spec.tls[0]?.secretName, "ferry-tls");
        assert.deepEqual(
          spec.rules[0]?.http.paths.map((p) => p.path),
          ["/api/github/webhooks", "/api/gitlab/webhooks", "/plans/"],
          "metrics and the dashboard stay internal",
        );
        assert.deepEqual(
          [deployment(objects, "web").object.spec?.replicas, deployment(objects, "worker").object.spec?.replicas],
          [3, 5],
        );
        assert.equal(envOf(deployment(objects, "worker").container).get("FERRY_CONCURRENCY")?.value, "8");
        const config = parse(byKind(objects, "ConfigMap")[0]?.data?.["server.yml"] ?? "") as { publicUrl?: string };
        assert.equal(config.publicUrl, "https://ferry.test.example", "publicUrl follows the Ingress");
      },
    },
    {
      name: "ServiceMonitor on",
      values: () => ({ metrics: { serviceMonitor: { enabled: true, labels: { release: "prometheus" } } } }),
      check(objects) {
        const [monitor] = byKind(objects, "ServiceMonitor");
        assert.ok(monitor);
        assert.equal(monitor.metadata.labels?.release, "prometheus");
        assert.deepEqual(
          (monitor.spec?.endpoints as Array<{ port: string; path: string }>).map((e) => [e.port, e.path]),
          [["http", "/metrics"]],
        );
        // The worker pods, which have no webhook Service, get a headless one for scraping.
        const services = byKind(objects, "Service").map((s) => [
          s.metadata.labels?.["app.kubernetes.io/component"],
          (s.spec?.ports as Array<{ name: string }>)[0]?.name,
        ]);
        assert.deepEqual(services.sort(), [
          ["web", "http"],
          ["worker", "http"],
        ]);
      },
    },
    {
      name: "external Redis Sentinel, forge and kubeconfig Secrets, dashboard",
      values: () => ({
        redis: {
          existingSecret: "ferry-redis",
          passwordKey: "password",
          sentinelPasswordKey: "sentinel-password",
          sentinel: { nodes: ["sentinel-0.redis:26379", "sentinel-1.redis:26379", "sentinel-2.redis"], name: "ferry" },
        },
        github: { existingSecret: "ferry-github", enterpriseHost: "ghe.example.com" },
        gitlab: { url: "https://gitlab.example.com", existingSecret: "ferry-gitlab" },
        kubeconfigs: { existingSecret: "ferry-kubeconfigs" },
        admin: { existingSecret: "ferry-admin" },
        config: {
          publicUrl: "https://ferry.example.com",
          clusters: [
            { name: "local", inCluster: true },
            { name: "prod-eu", context: "prod-eu-admin", kubeconfig: "/etc/ferry/kubeconfigs/prod-eu.yaml" },
          ],
          policy: [{ repositories: ["acme/*"], clusters: ["local", "prod-eu"], namespaces: ["shop-*"] }],
          forkPlans: [],
        },
      }),
      check(objects) {
        const web = envOf(deployment(objects, "web").container);
        const worker = envOf(deployment(objects, "worker").container);
        for (const env of [web, worker]) {
          assert.equal(
            env.get("REDIS_SENTINELS")?.value,
            "sentinel-0.redis:26379,sentinel-1.redis:26379,sentinel-2.redis",
          );
          assert.equal(env.get("REDIS_SENTINEL_NAME")?.value, "ferry");
          assert.equal(env.has("REDIS_URL"), false);
          assert.deepEqual(env.get("REDIS_PASSWORD")?.valueFrom?.secretKeyRef, {
            name: "ferry-redis",
            key: "password",
          });
          assert.deepEqual(env.get("REDIS_SENTINEL_PASSWORD")?.valueFrom?.secretKeyRef, {
            name: "ferry-redis",
            key: "sentinel-password",
          });
          assert.deepEqual(env.get("PRIVATE_KEY")?.valueFrom?.secretKeyRef, {
            name: "ferry-github",
            key: "private-key",
          });
          assert.deepEqual(env.get("GITLAB_TOKEN")?.valueFrom?.secretKeyRef, { name: "ferry-gitlab", key: "token" });
          // No secret value is ever written into the chart's objects: only references.
          for (const [name, e] of env)
            if (/TOKEN|SECRET|PASSWORD|PRIVATE_KEY/.test(name)) assert.equal(e.value, undefined, name);
        }
        assert.ok(web.has("FERRY_ADMIN_PASSWORD"), "the dashboard's credentials reach the web role...");
        assert.ok(!worker.has("FERRY_ADMIN_PASSWORD"), "...and only the web role, which serves it");
        const pod = deployment(objects, "worker").pod;
        assert.deepEqual(
          (pod.volumes as Array<{ name: string; secret?: { secretName: string } }>).find(
            (v) => v.name === "kubeconfigs",
          )?.secret?.secretName,
          "ferry-kubeconfigs",
        );
      },
    },
    {
      name: "SOPS age keys from an existing Secret, on the worker only",
      values: () => ({
        sops: { existingSecret: "ferry-age" },
        config: {
          clusters: [{ name: "local", inCluster: true }],
          policy: [],
          sops: {
            keys: [
              { repositories: ["acme/*"], age: { file: "/etc/ferry/age/acme.txt" } },
              { repositories: ["acme/shop"], environments: ["production"], age: { env: "SHOP_AGE_KEY" } },
            ],
          },
        },
      }),
      check(objects) {
        type Pod = {
          volumes: Array<{ name: string; secret?: { secretName: string } }>;
          containers: Array<{ volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }> }>;
        };
        const worker = deployment(objects, "worker").pod as unknown as Pod;
        assert.equal(worker.volumes.find((v) => v.name === "sops-age")?.secret?.secretName, "ferry-age");
        assert.deepEqual(
          worker.containers[0]?.volumeMounts.find((m) => m.name === "sops-age"),
          { name: "sops-age", mountPath: "/etc/ferry/age", readOnly: true },
        );
        const web = deployment(objects, "web").pod as unknown as Pod;
        assert.equal(
          web.volumes.find((v) => v.name === "sops-age"),
          undefined,
          "the web role never renders",
        );
        const config = parseServerConfig(byKind(objects, "ConfigMap")[0]?.data?.["server.yml"] ?? "", "server.yml");
        assert.deepEqual(config.sops.keys[0], { repositories: ["acme/*"], age: { file: "/etc/ferry/age/acme.txt" } });
      },
    },
    {
      name: "Redis Cluster, and RBAC limited to named namespaces",
      values: () => ({
        redis: {
          url: "",
          cluster: { nodes: ["redis-0.redis:6379", "redis-1.redis:6379", "redis-2.redis:6379"], queueGroups: 12 },
          tls: true,
        },
        rbac: { namespaces: deployNamespaces, createNamespaces: false },
        validationNamespace: { create: false },
      }),
      check(objects) {
        assert.deepEqual(
          byKind(objects, "Namespace"),
          [],
          "validationNamespace.create: false leaves it to whoever made it",
        );
        const env = envOf(deployment(objects, "worker").container);
        assert.equal(env.get("REDIS_CLUSTER_NODES")?.value, "redis-0.redis:6379,redis-1.redis:6379,redis-2.redis:6379");
        assert.equal(env.get("REDIS_QUEUE_GROUPS")?.value, "12");
        assert.equal(env.get("REDIS_TLS")?.value, "true");
        assert.deepEqual(
          byKind(objects, "RoleBinding")
            .map((b) => b.metadata.namespace)
            .sort(),
          [...deployNamespaces, "ferry-validation"].sort(),
        );
        assert.deepEqual(
          byKind(objects, "ClusterRoleBinding").map((b) => b.metadata.name),
          ["ferry-cluster"],
        );
        const [clusterRole] = byKind(objects, "ClusterRole").filter((r) => r.metadata.name === "ferry-cluster");
        const rules = clusterRole?.rules as Array<{ resources: string[]; verbs: string[] }>;
        assert.deepEqual(
          rules.find((r) => r.resources.includes("namespaces"))?.verbs,
          ["get", "list", "watch"],
          "no namespace creation",
        );
      },
    },
  ];

  before(async () => {
    chart = await ChartCheck.open(CHART, "ferry");
    const kc = testKubeConfig();
    namespace = await createTestNamespace(kc, "chart");
    deployNamespaces = [await createTestNamespace(kc, "chart-shop"), await createTestNamespace(kc, "chart-shop")];
    await kc
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name: "ferry-validation" } } })
      .catch((error: unknown) => {
        if ((error as { code?: number }).code !== 409) throw error;
      });
    // ServiceMonitor is a Prometheus Operator kind: give the API server a minimal CRD for it.
    const crd = {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: "servicemonitors.monitoring.coreos.com" },
      spec: {
        group: "monitoring.coreos.com",
        scope: "Namespaced",
        names: {
          plural: "servicemonitors",
          singular: "servicemonitor",
          kind: "ServiceMonitor",
          listKind: "ServiceMonitorList",
        },
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
          },
        ],
      },
    };
    await chart.kubectl(["apply", "--server-side", "--field-manager=ferry-chart-test", "-f", "-"], JSON.stringify(crd));
    await chart.kubectl([
      "wait",
      "--for=condition=Established",
      "--timeout=60s",
      "crd/servicemonitors.monitoring.coreos.com",
    ]);
  });

  after(async () => chart?.close());

  test("the default values satisfy values.schema.json", () => {
    const { ok, errors } = chart.valid({});
    assert.ok(ok, errors);
  });

  for (const c of cases) {
    test(`${c.name}: schema-valid, lints, renders, and every object passes a server-side dry-run apply`, async () => {
      const { objects, manifest } = await chart.render(namespace, c.values());
      assert.ok(objects.length >= 10, `${objects.length} objects`);
      c.check(objects);
      // Ferry reads the ConfigMap's server.yml with its own validation.
      const [configMap] = byKind(objects, "ConfigMap");
      parseServerConfig(configMap?.data?.["server.yml"] ?? "", "server.yml");

      await chart.dryRunApply(manifest, objects.length);
    });
  }

  test("helm refuses values the schema does not allow, as ajv does", async () => {
    const bad: Values[] = [
      { web: { replicas: "two" } },
      { worker: { concurrency: 0 } },
      { redis: { url: "http://redis:6379" } },
      { ingress: { enabled: true, paths: [] } },
      { logLevel: "verbose" },
      { webb: { replicas: 1 } },
      { config: { clusters: [{ name: "x", inCluster: true, token: "t" }], policy: [] } },
      {
        config: {
          clusters: [],
          policy: [],
          sops: { keys: [{ repositories: ["a/*"], age: { key: "AGE-SECRET-KEY-1X" } }] },
        },
      },
      { sops: { existingSecret: "Not A Name" } },
    ];
    await chart.refusesBadValues(bad);
  });

  test("helm refuses Sentinel and Cluster at once, and no Redis at all", async () => {
    const both = { redis: { sentinel: { nodes: ["s:26379"], name: "m" }, cluster: { nodes: ["c:6379"] } } };
    await assert.rejects(chart.template(both), /set sentinel\.nodes or cluster\.nodes, not both/);
    await assert.rejects(chart.template({ redis: { url: "" } }), /redis: set url, sentinel\.nodes or cluster\.nodes/);
  });
});
