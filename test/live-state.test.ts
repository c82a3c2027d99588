import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { KubeClient } from "../src/kube/kube-client.js";
import { readLiveObjects, readLiveState } from "../src/kube/live-state.js";
import { refKey, type ObjectRef } from "../src/kube/object-ref.js";
import { createTestNamespace, testKubeConfig } from "./support/kube.js";

/** Reading live objects against the run's API server: a GET each for a few, one LIST for many. */
describe("readLiveState and readLiveObjects", () => {
  const kc = testKubeConfig();
  let client: KubeClient;
  let namespace: string;
  const cm = (name: string): ObjectRef => ({ apiVersion: "v1", kind: "ConfigMap", namespace, name });

  before(async () => {
    client = await KubeClient.fromKubeConfig(kc);
    namespace = await createTestNamespace(kc, "live");
    for (const name of ["a", "b", "c", "d"])
      await client.call("POST", `/api/v1/namespaces/${namespace}/configmaps`, {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name, annotations: { "ferry.dev/inventory": "inv-1" } },
        data: { v: name },
      });
  });
  after(() => client.close());

  test("a few objects are read one by one: only they are found, with versions and owners; a missing one is absent", async () => {
    const live = await readLiveState(client, [cm("a"), cm("nope")]);
    assert.deepEqual([...live.keys()], [refKey(cm("a"))]);
    assert.equal(live.get(refKey(cm("a")))?.inventory, "inv-1");
    assert.match(live.get(refKey(cm("a")))?.resourceVersion ?? "", /^\d+$/);
  });

  test("a cluster-scoped kind by name: the Namespace itself, without listing every namespace", async () => {
    const ns: ObjectRef = { apiVersion: "v1", kind: "Namespace", name: namespace };
    const live = await readLiveState(client, [
      ns,
      { apiVersion: "v1", kind: "Namespace", name: `${namespace}-absent` },
    ]);
    assert.deepEqual([...live.keys()], [refKey(ns)]);
  });

  test("many objects of a kind are read with one LIST, which also sees the others there", async () => {
    const live = await readLiveState(client, [cm("a"), cm("b"), cm("c")]);
    for (const name of ["a", "b", "c", "d"]) assert.ok(live.has(refKey(cm(name))), name);
  });

  test("whole objects read either way carry their apiVersion, kind and data", async () => {
    for (const refs of [[cm("b")], [cm("a"), cm("b"), cm("c")]]) {
      const live = await readLiveObjects(client, refs);
      const b = live.get(refKey(cm("b")));
      assert.equal(b?.apiVersion, "v1");
      assert.equal(b?.kind, "ConfigMap");
      assert.deepEqual(b?.data, { v: "b" });
      assert.equal(live.has(refKey(cm("d"))), false, "only what was asked for");
    }
  });

  test("a kind the server does not serve is skipped", async () => {
    const live = await readLiveState(client, [{ apiVersion: "example.com/v1", kind: "Widget", namespace, name: "w" }]);
    assert.equal(live.size, 0);
  });
});
