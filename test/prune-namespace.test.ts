import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Environment } from "../src/config/ferry-config.js";
import { KubeClient } from "../src/kube/kube-client.js";
import { planEnvironment } from "../src/release/plan-environment.js";
import { releaseEnvironment } from "../src/release/release-session.js";
import type { KubeObject, RenderedObject } from "../src/render/types.js";
import { createTestNamespace, testKubeConfig, uniqueName } from "./support/kube.js";
import { waitUntil } from "./support/wait-until.js";
import { deployment } from "./support/workloads.js";

describe("pruning a Namespace", () => {
  let client: KubeClient;
  /** The environment's own namespace, where its inventory lives. */
  let home: string;
  before(async () => {
    client = await KubeClient.fromKubeConfig(testKubeConfig());
    home = await createTestNamespace(testKubeConfig(), "prune-home");
  });
  after(() => client.close());

  const rendered = (namespace: string): RenderedObject[] =>
    [
      { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } },
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings", namespace }, data: { v: "1" } },
      { ...deployment("web", { replicas: 0 }), metadata: { name: "web", namespace } },
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "web", namespace },
        spec: { selector: { app: "web" }, ports: [{ port: 80 }] },
      },
    ].map((object) => ({ object: object as KubeObject, source: `deploy/${namespace}.yaml` }));
  const target = (namespace: string, repository: string, extra: Partial<Environment> = {}) => ({
    client,
    repository,
    env: {
      name: "staging",
      branch: "main",
      path: "deploy",
      cluster: "ferry-test",
      namespace: home,
      prune: true,
      ...extra,
    },
    grant: { cluster: "ferry-test", namespaces: [home, namespace], clusterScopedKinds: [] },
  });
  const exists = async (path: string) => (await client.request("GET", path)).status === 200;
  const items = async (path: string) => ((await client.call("GET", path)) as { items: unknown[] }).items.length;
  /** Waits for what Kubernetes adds to a namespace and its objects by itself: what must not keep it from being pruned. */
  const kubernetesFilledIn = (namespace: string) =>
    waitUntil(
      `the default ServiceAccount, kube-root-ca.crt, the Deployment's ReplicaSet and the Service's EndpointSlice in ${namespace}`,
      async () =>
        (await exists(`/api/v1/namespaces/${namespace}/serviceaccounts/default`)) &&
        (await exists(`/api/v1/namespaces/${namespace}/configmaps/kube-root-ca.crt`)) &&
        (await items(`/apis/apps/v1/namespaces/${namespace}/replicasets`)) > 0 &&
        (await items(`/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`)) > 0,
      60_000,
    );
  /** True while the namespace exists and is not being deleted. */
  const standing = async (namespace: string) => {
    const res = await client.request("GET", `/api/v1/namespaces/${namespace}`);
    return (
      res.status === 200 &&
      (res.body as { metadata: { deletionTimestamp?: string } }).metadata.deletionTimestamp === undefined
    );
  };

  test("holding only the environment's objects and what Kubernetes puts there, it is pruned", async () => {
    const doomed = uniqueName("doomed");
    const repository = `acme/${uniqueName("prune")}`;
    await releaseEnvironment({ ...target(doomed, repository), rendered: rendered(doomed), sha: "one", actor: "test" });
    await kubernetesFilledIn(doomed);
    const result = await releaseEnvironment({ ...target(doomed, repository), rendered: [], sha: "two", actor: "test" });
    assert.ok(
      result.pruned.some((r) => r.kind === "Namespace" && r.name === doomed),
      JSON.stringify(result.pruned),
    );
    assert.equal(await standing(doomed), false);
  });

  test("holding objects Ferry does not own, the plan and the release refuse, naming a few, and nothing is pruned; pruneNamespaces: cascade deletes it", async () => {
    const doomed = uniqueName("doomed");
    const repository = `acme/${uniqueName("prune")}`;
    await releaseEnvironment({ ...target(doomed, repository), rendered: rendered(doomed), sha: "one", actor: "test" });
    await kubernetesFilledIn(doomed);
    await client.call("POST", `/api/v1/namespaces/${doomed}/configmaps`, {
      metadata: { name: "by-hand" },
      data: { v: "1" },
    });
    await client.call("POST", `/api/v1/namespaces/${doomed}/secrets`, {
      metadata: { name: "by-hand" },
      stringData: { token: "t" },
    });

    const refusal = (message: string) => {
      const [first = "", advice = ""] = message.split("\n");
      assert.equal(
        first,
        `Namespace ${doomed}: Ferry would prune it, but it holds 2 objects ${repository}@staging does not own (ConfigMap ${doomed}/by-hand, Secret ${doomed}/by-hand)`,
      );
      assert.match(
        advice,
        /deleting a Namespace deletes everything in it, .*set pruneNamespaces: cascade on environment staging/,
      );
      return true;
    };
    await assert.rejects(planEnvironment({ ...target(doomed, repository), rendered: [], sha: "plan" }), (e: Error) =>
      refusal(e.message),
    );
    await assert.rejects(
      releaseEnvironment({ ...target(doomed, repository), rendered: [], sha: "two", actor: "test" }),
      (e: Error) => refusal(e.message),
    );
    assert.equal(await standing(doomed), true);
    assert.ok(
      await exists(`/api/v1/namespaces/${doomed}/configmaps/settings`),
      "nothing was pruned, not even Ferry's own objects",
    );

    const cascade = await releaseEnvironment({
      ...target(doomed, repository, { pruneNamespaces: "cascade" }),
      rendered: [],
      sha: "three",
      actor: "test",
    });
    assert.ok(cascade.pruned.some((r) => r.kind === "Namespace" && r.name === doomed));
    assert.equal(await standing(doomed), false);
  });
});
