import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { testKubeConfig, uniqueName } from "../../test/support/kube.js";
import { KubeClient } from "../kube/kube-client.js";
import type { RenderedObject } from "../render/types.js";
import { refKey } from "../kube/object-ref.js";
import { ReleaseSession, releaseEnvironment } from "./release-session.js";

describe("releaseEnvironment against a real kube-apiserver", () => {
  let client: KubeClient;
  before(async () => (client = await KubeClient.fromKubeConfig(testKubeConfig())));
  after(() => client.close());

  const configMaps = (color: string): RenderedObject[] =>
    ["a", "b", "c"].map((name) => ({
      object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data: { color } },
      source: `deploy/${name}.yaml`,
    }));
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
    const changed = await release(
      namespace,
      [...configMaps("blue").slice(0, 2), ...configMaps("green").slice(2)],
      "three",
    );
    assert.deepEqual([changed.created.length, changed.configured.map((r) => r.name), changed.unchanged], [0, ["c"], 2]);
  });

  it("writes nothing, not even the namespace, when one object fails validation", async () => {
    const namespace = uniqueName("release");
    const rendered = configMaps("blue");
    rendered.push({
      object: {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "bad" },
        data: { color: "blue" },
        colour: "blue",
      },
      source: "deploy/bad.yaml",
    });
    await assert.rejects(
      release(namespace, rendered, "one"),
      /ConfigMap .*\/bad \(deploy\/bad\.yaml\): .*unknown field "colour"[\s\S]*nothing was applied/,
    );
    assert.equal((await client.request("GET", `/api/v1/namespaces/${namespace}`)).status, 404);
  });

  it("heals: re-applies objects others changed but those it is told to leave, and keeps one heal per commit in the history", async () => {
    const namespace = uniqueName("release");
    const env = { name: "test", branch: "main", path: "deploy", cluster: "test", namespace, prune: true };
    const target = {
      client,
      repository: "test/release",
      env,
      grant: { cluster: "test", namespaces: ["*"], clusterScopedKinds: [] },
    };
    await release(namespace, configMaps("blue"), "one");
    const edit = (name: string) =>
      client.call(
        "PATCH",
        `/api/v1/namespaces/${namespace}/configmaps/${name}?fieldManager=kubectl-edit`,
        { data: { color: "red" } },
        "application/merge-patch+json",
      );
    const color = async (name: string) =>
      ((await client.call("GET", `/api/v1/namespaces/${namespace}/configmaps/${name}`)) as { data: { color: string } })
        .data.color;
    const heal = async () => {
      const session = new ReleaseSession(target);
      const result = await session.apply(configMaps("blue"), "one", "healer", {
        leave: new Set([refKey({ apiVersion: "v1", kind: "ConfigMap", namespace, name: "b" })]),
      });
      await session.record("success", "healed", { heal: true });
      return { result, history: await session.history() };
    };
    await edit("a");
    await edit("b");
    const first = await heal();
    assert.deepEqual(
      first.result.configured.map((r) => r.name),
      ["a"],
    );
    assert.deepEqual([await color("a"), await color("b")], ["blue", "red"], "b was left as it is");
    await edit("a");
    const second = await heal();
    assert.deepEqual(
      second.result.configured.map((r) => r.name),
      ["a"],
    );
    assert.deepEqual(
      second.history.map((r) => [r.sha, r.result, r.heal ?? false]),
      [
        ["one", "success", true],
        ["one", "success", false],
      ],
      "the second heal replaced the first",
    );
    // The next release still sees b moved since the inventory, and applies it again.
    const next = await release(namespace, configMaps("blue"), "two");
    assert.deepEqual(
      next.configured.map((r) => r.name),
      ["b"],
    );
    assert.equal(await color("b"), "blue");
    // An object another inventory took over is left to it: the heal neither applies it nor refuses for it.
    const elsewhere = {
      metadata: { annotations: { "ferry.dev/inventory": "elsewhere/ferry-other" } },
      data: { color: "red" },
    };
    await client.call(
      "PATCH",
      `/api/v1/namespaces/${namespace}/configmaps/b?fieldManager=kubectl-edit`,
      elsewhere,
      "application/merge-patch+json",
    );
    await edit("a");
    const third = await heal();
    assert.deepEqual(
      third.result.configured.map((r) => r.name),
      ["a"],
    );
    assert.equal(await color("b"), "red");
  });
});
