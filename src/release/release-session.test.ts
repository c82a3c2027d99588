import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { testKubeConfig, uniqueName } from "../../test/support/kube.js";
import { KubeClient } from "../kube/kube-client.js";
import type { RenderedObject } from "../render/types.js";
import { releaseEnvironment } from "./release-session.js";

describe("releaseEnvironment against a real kube-apiserver", () => {
  let client: KubeClient;
  before(async () => (client = await KubeClient.fromKubeConfig(testKubeConfig())));
  after(() => client.close());

  const configMaps = (color: string): RenderedObject[] =>
    ["a", "b", "c"].map((name) => ({ object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data: { color } }, source: `deploy/${name}.yaml` }));
  const release = (namespace: string, rendered: RenderedObject[], sha: string) =>
    releaseEnvironment({
      client,
      repository: "test/release",
      env: { name: "test", branch: "main", path: "deploy", cluster: "test", namespace, prune: true },
      grant: { cluster: "test", namespaces: ["*"], clusterScopedKinds: [] },
      rendered,
      sha,
      actor: "test",
    });

  it("creates objects in a namespace it brings into being, then finds them unchanged by the versions it recorded", async () => {
    const namespace = uniqueName("release");
    const first = await release(namespace, configMaps("blue"), "one");
    assert.deepEqual([first.created.length, first.configured.length, first.unchanged], [3, 0, 0]);
    const again = await release(namespace, configMaps("blue"), "two");
    assert.deepEqual([again.created.length, again.configured.length, again.unchanged], [0, 0, 3]);
    const changed = await release(namespace, [...configMaps("blue").slice(0, 2), ...configMaps("green").slice(2)], "three");
    assert.deepEqual([changed.created.length, changed.configured.map((r) => r.name), changed.unchanged], [0, ["c"], 2]);
  });

  it("writes nothing, not even the namespace, when one object fails validation", async () => {
    const namespace = uniqueName("release");
    const rendered = configMaps("blue");
    rendered.push({ object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "bad" }, data: { color: "blue" }, colour: "blue" }, source: "deploy/bad.yaml" });
    await assert.rejects(release(namespace, rendered, "one"), /ConfigMap .*\/bad \(deploy\/bad\.yaml\): .*unknown field "colour"[\s\S]*nothing was applied/);
    assert.equal((await client.request("GET", `/api/v1/namespaces/${namespace}`)).status, 404);
  });
});
