import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { Ajv } from "ajv";
import { CoreV1Api } from "@kubernetes/client-node";
import { parse, parseAllDocuments, stringify } from "yaml";
import { createTestNamespace, testKubeConfig, testKubeConfigPath, uniqueName } from "./support/kube.js";

const run = promisify(execFile);
const CHART = new URL("../charts/ferry-agent", import.meta.url).pathname;
const HELM = process.env.FERRY_HELM ?? "helm";
const KUBECTL = process.env.FERRY_TEST_KUBECTL ?? "kubectl";

/** A rendered Kubernetes object, as far as these tests read it. */
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  subjects?: Array<{ name: string; namespace: string }>;
  [key: string]: unknown;
}

/** The agent's container, as far as these tests read it. */
interface Container {
  args: string[];
  env: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
  readinessProbe: { httpGet: { path: string } };
  livenessProbe: { httpGet: { path: string } };
  resources: Record<string, unknown>;
  securityContext: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
}

type Values = Record<string, unknown>;

/** Helm's merge of values: objects merge key by key, anything else (arrays included) is replaced. */
function mergeValues(base: Values, override: Values): Values {
  const out: Values = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = out[key];
    const isObject = (v: unknown): v is Values => typeof v === "object" && v !== null && !Array.isArray(v);
    out[key] = isObject(current) && isObject(value) ? mergeValues(current, value) : value;
  }
  return out;
}

const byKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);

/** What every install names: the cluster, Ferry's Redis, and the Secret with the agent's secret. */
const REQUIRED: Values = {
  cluster: "edge-0042",
  redis: { url: "rediss://redis.ferry.example.com:6380", existingSecret: "ferry-agent-redis" },
};

function agentContainer(objects: K8sObject[]): {
  object: K8sObject;
  container: Container;
  pod: Record<string, unknown>;
} {
  const [object] = byKind(objects, "Deployment");
  assert.ok(object, "no Deployment");
  const pod = (object.spec?.template as { spec: Record<string, unknown> }).spec;
  const [container] = pod.containers as Container[];
  assert.ok(container);
  return { object, container, pod };
}

describe("Helm chart charts/ferry-agent", () => {
  let work: string;
  let namespace: string;
  let deployNamespaces: string[];
  let validate: ReturnType<Ajv["compile"]>;
  let defaults: Values;

  const cases: Array<{ name: string; values: () => Values; check(objects: K8sObject[]): void }> = [
    {
      name: "an agent with cluster-wide RBAC",
      values: () => REQUIRED,
      check(objects) {
        const { object, container, pod } = agentContainer(objects);
        assert.equal(object.spec?.replicas, 1);
        assert.deepEqual(object.spec?.strategy, { type: "Recreate" });
        assert.deepEqual(container.args, ["agent", "--cluster", "edge-0042"]);
        const env = new Map(container.env.map((e) => [e.name, e]));
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
        const env = new Map(container.env.map((e) => [e.name, e]));
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
    work = await mkdtemp(join(tmpdir(), "ferry-agent-chart-"));
    const kc = testKubeConfig();
    namespace = await createTestNamespace(kc, "agent-chart");
    deployNamespaces = [await createTestNamespace(kc, "agent-shop"), await createTestNamespace(kc, "agent-shop")];
    await kc
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name: "ferry-validation" } } })
      .catch((error: unknown) => {
        if ((error as { code?: number }).code !== 409) throw error;
      });
    const schema = JSON.parse(await readFile(join(CHART, "values.schema.json"), "utf8")) as object;
    validate = new Ajv({ allErrors: true, strict: true }).compile(schema);
    defaults = parse(await readFile(join(CHART, "values.yaml"), "utf8")) as Values;
  });

  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  async function kubectl(args: string[], input?: string): Promise<string> {
    const child = run(KUBECTL, ["--kubeconfig", testKubeConfigPath(), ...args], { maxBuffer: 16 << 20 });
    if (input !== undefined) child.child.stdin?.end(input);
    return (await child).stdout;
  }

  async function valuesFile(values: Values): Promise<string> {
    const file = join(work, `${uniqueName("values")}.yaml`);
    await writeFile(file, stringify(values));
    return file;
  }

  test("the default values satisfy values.schema.json", () => {
    assert.ok(validate(defaults), JSON.stringify(validate.errors));
  });

  for (const c of cases) {
    test(`${c.name}: schema-valid, lints, renders, and every object passes a server-side dry-run apply`, async () => {
      const overrides = c.values();
      assert.ok(validate(mergeValues(defaults, overrides)), JSON.stringify(validate.errors));
      const file = await valuesFile(overrides);
      await run(HELM, ["lint", "--strict", CHART, "-f", file, "--namespace", namespace]);
      const { stdout } = await run(HELM, ["template", "ferry-agent", CHART, "--namespace", namespace, "-f", file], {
        maxBuffer: 16 << 20,
      });
      const objects = parseAllDocuments(stdout)
        .map((d) => d.toJS() as K8sObject | null)
        .filter((o): o is K8sObject => o !== null);
      for (const o of objects) {
        if (["ClusterRole", "ClusterRoleBinding", "Namespace"].includes(o.kind))
          assert.equal(o.metadata.namespace, undefined);
        else if (o.kind !== "RoleBinding")
          assert.equal(o.metadata.namespace, namespace, `${o.kind} ${o.metadata.name}`);
      }
      c.check(objects);
      const applied = await kubectl(
        ["apply", "--server-side", "--dry-run=server", "--field-manager=ferry-chart-test", "-f", "-"],
        stdout,
      );
      const lines = applied.trim().split("\n");
      assert.equal(lines.length, objects.length, applied);
      for (const line of lines) assert.match(line, /serverside-applied \(server dry run\)$/);
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
    for (const values of bad) {
      assert.equal(validate(mergeValues(defaults, values)), false, `ajv accepted ${JSON.stringify(values)}`);
      const file = await valuesFile(values);
      await assert.rejects(
        run(HELM, ["template", "ferry-agent", CHART, "-f", file]),
        /values don't meet the specifications of the schema/,
        JSON.stringify(values),
      );
    }
  });

  test("helm refuses an install without its cluster, Redis or secret, saying which", async () => {
    for (const [values, message] of [
      [{ redis: REQUIRED.redis }, /cluster: name the cluster this agent runs in/],
      [{ cluster: "edge-1", redis: { existingSecret: "s" } }, /redis\.url: the agent needs Ferry's Redis/],
      [{ cluster: "edge-1", redis: { url: "redis://r:6379" } }, /redis\.existingSecret: the Secret holding/],
    ] as const) {
      await assert.rejects(run(HELM, ["template", "ferry-agent", CHART, "-f", await valuesFile(values)]), message);
    }
  });
});
