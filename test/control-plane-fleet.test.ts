/**
 * The run's fleet (scripts/control-plane up --clusters N) is made of separate clusters: API servers
 * sharing one etcd under different prefixes, so an object of one cluster is never seen through
 * another's API server, even under the same namespace and name.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { CoreV1Api, type KubeConfig, type V1ConfigMap } from "@kubernetes/client-node";
import { testFleetContexts, testKubeConfigFor, uniqueName } from "./support/kube.js";

/** Whether a client call failed with HTTP 404. */
const notFound = (error: unknown): boolean => (error as { code?: number }).code === 404;

describe("the test fleet's clusters are separate clusters", () => {
  let contexts: string[];
  let kcs: KubeConfig[];
  let apis: CoreV1Api[];
  /** The namespace and ConfigMap name every cluster has, each its own copy. */
  const namespace = uniqueName("fleet");
  const name = "same-name";
  /** A namespace created on cluster 1 only. */
  const onlyOnOne = uniqueName("fleet-only-1");

  before(async () => {
    contexts = testFleetContexts();
    assert.ok(contexts.length >= 2, `a fleet of at least 2 clusters (FERRY_TEST_CLUSTERS), got ${contexts.join(",")}`);
    kcs = contexts.map(testKubeConfigFor);
    apis = kcs.map((kc) => kc.makeApiClient(CoreV1Api));
    // The same namespace and ConfigMap on every cluster, each saying which cluster it was made on.
    await Promise.all(
      apis.map(async (api, i) => {
        await api.createNamespace({ body: { metadata: { name: namespace } } });
        await api.createNamespacedConfigMap({
          namespace,
          body: { metadata: { name }, data: { cluster: contexts[i] ?? "" } },
        });
      }),
    );
    await apis[1]?.createNamespace({ body: { metadata: { name: onlyOnOne } } });
  });

  test("every context has an API server of its own", () => {
    const servers = kcs.map((kc) => kc.getCurrentCluster()?.server);
    assert.equal(new Set(servers).size, contexts.length, `distinct servers: ${servers.join(" ")}`);
  });

  test("a ConfigMap of the same namespace and name on each cluster is an object of its own", async () => {
    const read: V1ConfigMap[] = await Promise.all(apis.map((api) => api.readNamespacedConfigMap({ namespace, name })));
    const uids = read.map((cm) => cm.metadata?.uid);
    assert.ok(
      uids.every((uid) => uid),
      "every copy has a uid",
    );
    assert.equal(new Set(uids).size, contexts.length, `different uids: ${uids.join(" ")}`);
    // Each API server shows its own cluster's copy, and only that one.
    assert.deepEqual(
      read.map((cm) => cm.data?.cluster),
      contexts,
    );
    const listed = await Promise.all(
      apis.map((api) => api.listNamespacedConfigMap({ namespace, fieldSelector: `metadata.name=${name}` })),
    );
    assert.deepEqual(
      listed.map((list) => list.items.map((cm) => cm.metadata?.uid)),
      uids.map((uid) => [uid]),
    );
  });

  test("a namespace created on cluster 1 does not exist on cluster 0", async () => {
    const [zero, one] = apis;
    assert.ok(zero && one);
    assert.equal((await one.readNamespace({ name: onlyOnOne })).metadata?.name, onlyOnOne);
    await assert.rejects(zero.readNamespace({ name: onlyOnOne }), notFound);
    const names = (await zero.listNamespace()).items.map((ns) => ns.metadata?.name);
    assert.ok(names.includes(namespace) && !names.includes(onlyOnOne), `cluster 0's namespaces: ${names.join(" ")}`);
  });
});
