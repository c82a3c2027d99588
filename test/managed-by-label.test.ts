import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { stringify } from "yaml";
import { KubeClient } from "../src/kube/kube-client.js";
import { FIELD_MANAGER, INVENTORY_ANNOTATION, MANAGED_BY_LABEL } from "../src/kube/labels.js";
import { releaseEnvironment } from "../src/release/release-session.js";
import { parseManifests } from "../src/render/parse-manifests.js";
import { createTestNamespace, testKubeConfig } from "./support/kube.js";

/** Labels and annotations of a live object. */
interface LiveMetadata {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
}

const podSpec = { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] };

/** A Job with `metadata` and a pod template without labels. */
const job = (metadata: Record<string, unknown>) => ({
  apiVersion: "batch/v1",
  kind: "Job",
  metadata,
  spec: { template: { spec: podSpec } },
});

const manifests = [
  job({ name: "migrate" }),
  job({ name: "labelled", labels: { team: "db" } }),
  {
    apiVersion: "v1",
    kind: "ReplicationController",
    metadata: { name: "legacy" },
    spec: {
      replicas: 0,
      template: { metadata: { labels: { app: "legacy" } }, spec: { containers: podSpec.containers } },
    },
  },
  { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings" }, data: { v: "1" } },
];

describe("Ferry's managed-by label leaves what the API server defaults alone", () => {
  const kc = testKubeConfig();
  let client: KubeClient;
  let namespace: string;
  before(async () => {
    client = await KubeClient.fromKubeConfig(kc);
    namespace = await createTestNamespace(kc, "managed-by");
  });
  after(() => client.close());

  /** Releases `objects` (by default the manifests above) as commit `sha`; other objects go to an environment of their own. */
  const release = (sha: string, objects: object[] = manifests) =>
    releaseEnvironment({
      client,
      repository: "acme/jobs",
      env: {
        name: objects === manifests ? "jobs" : "other",
        branch: "main",
        path: ".",
        cluster: "ferry-test",
        namespace,
        prune: false,
      },
      grant: { cluster: "ferry-test", namespaces: [namespace], clusterScopedKinds: [] },
      rendered: parseManifests(objects.map((o) => stringify(o)).join("---\n"), "deploy/all.yaml", []),
      sha,
      actor: "test",
    });
  /** Names of the objects of `resource` in the test's namespace that `selector` selects, as `kubectl get -l` lists them. */
  const select = async (groupVersion: string, resource: string, selector: string) => {
    const path = `/${groupVersion}/namespaces/${namespace}/${resource}?labelSelector=${encodeURIComponent(selector)}`;
    const list = (await client.call("GET", path)) as { items: LiveMetadata[] };
    return list.items.map((item) => item.metadata.name);
  };
  const get = async (path: string) => (await client.call("GET", `/${path}`)) as LiveMetadata;

  test("a Job without labels keeps job-name and controller-uid (`kubectl get jobs -l job-name=…`), release after release", async () => {
    for (const sha of ["one", "two"]) {
      await release(sha);
      assert.deepEqual(await select("apis/batch/v1", "jobs", "job-name=migrate"), ["migrate"], `after release ${sha}`);
      const live = await get(`apis/batch/v1/namespaces/${namespace}/jobs/migrate`);
      assert.equal(live.metadata.labels?.["batch.kubernetes.io/job-name"], "migrate");
      assert.match(live.metadata.labels?.["controller-uid"] ?? "", /^[0-9a-f-]{36}$/);
      assert.equal(live.metadata.labels?.[MANAGED_BY_LABEL], undefined);
      assert.ok(
        live.metadata.annotations?.[INVENTORY_ANNOTATION],
        "Ferry's ownership is recorded in its inventory annotation",
      );
    }
  });

  test("a Job an earlier Ferry labelled gets the server's labels back at its next release", async () => {
    const earlier = job({ name: "upgraded", namespace, labels: { [MANAGED_BY_LABEL]: "ferry" } });
    const path = `/apis/batch/v1/namespaces/${namespace}/jobs/upgraded?fieldManager=${FIELD_MANAGER}`;
    await client.call("PATCH", path, earlier, "application/apply-patch+yaml");
    assert.deepEqual(
      await select("apis/batch/v1", "jobs", "job-name=upgraded"),
      [],
      "the label stopped the defaulting",
    );
    await release("three", [job({ name: "upgraded" })]);
    assert.deepEqual(await select("apis/batch/v1", "jobs", "job-name=upgraded"), ["upgraded"]);
  });

  test("a ReplicationController without labels gets its template's labels, as without Ferry", async () => {
    await release("one");
    assert.deepEqual(await select("api/v1", "replicationcontrollers", "app=legacy"), ["legacy"]);
  });

  test("objects with labels of their own, and kinds whose labels the server does not default, carry the label", async () => {
    await release("one");
    const labelled = await get(`apis/batch/v1/namespaces/${namespace}/jobs/labelled`);
    assert.deepEqual(labelled.metadata.labels, { team: "db", [MANAGED_BY_LABEL]: "ferry" });
    const settings = await get(`api/v1/namespaces/${namespace}/configmaps/settings`);
    assert.deepEqual(settings.metadata.labels, { [MANAGED_BY_LABEL]: "ferry" });
  });
});
