import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { testKubeConfig, uniqueName } from "../../test/support/kube.js";
import { isPermanent } from "../errors.js";
import { KubeClient } from "../kube/kube-client.js";
import { releaseEnvironment } from "../release/release-session.js";
import type { RenderedObject } from "../render/types.js";
import { readAgentInventory, runAgentReconcile } from "./run-agent-reconcile.js";

describe("an agent's reconcile steps against a real kube-apiserver", () => {
  let client: KubeClient;
  before(async () => (client = await KubeClient.fromKubeConfig(testKubeConfig())));
  after(() => client.close());

  const repository = "test/agent-reconcile";
  const grant = { cluster: "test", namespaces: ["*"], clusterScopedKinds: [] };
  const rendered: RenderedObject[] = [
    {
      object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "flags" }, data: { v: "1" } },
      source: "deploy/flags.yaml",
    },
    {
      object: { apiVersion: "v1", kind: "Secret", metadata: { name: "token" }, stringData: { key: "from-git-7" } },
      source: "deploy/token.yaml",
    },
  ];
  /** An environment released once as `one`, in a namespace of its own. */
  async function released() {
    const namespace = uniqueName("agrec");
    const env = { name: "edge", branch: "main", path: "deploy", cluster: "test", namespace, prune: true };
    await releaseEnvironment({ client, repository, env, grant, rendered, sha: "one", actor: "test" });
    return { namespace, env };
  }
  const patch = (path: string, body: unknown) =>
    client.call("PATCH", `${path}?fieldManager=kubectl-edit`, body, "application/merge-patch+json");

  it("reads the inventory: the last release, and an empty one where nothing was released", async () => {
    const { namespace } = await released();
    const inventory = await readAgentInventory(client, { cluster: "test", repository, environment: "edge", namespace });
    assert.deepEqual(
      inventory.releases.map((r) => [r.sha, r.result]),
      [["one", "success"]],
    );
    const none = await readAgentInventory(client, {
      cluster: "test",
      repository,
      environment: "elsewhere",
      namespace,
    });
    assert.deepEqual(none.releases, []);
  });

  it("finds drift with field, values and manager, Secret values masked; heals it only when asked", async () => {
    const { namespace, env } = await released();
    await patch(`/api/v1/namespaces/${namespace}/configmaps/flags`, { data: { v: "5" } });
    await patch(`/api/v1/namespaces/${namespace}/secrets/token`, {
      data: { key: Buffer.from("by-hand-3").toString("base64") },
    });
    const request = { cluster: "test", repository, sha: "one", env, grant, rendered };
    const found = await runAgentReconcile(client, request);
    assert.equal(found.healed, undefined);
    const drifted = Object.fromEntries(
      found.objects.map((o) => [o.ref.kind, o.drift?.kind === "drifted" ? o.drift.fields : o.drift?.kind]),
    );
    assert.deepEqual(
      (drifted.ConfigMap as Array<{ path: string; desired: string; live: string; manager: string }>).map((f) => [
        f.path,
        f.desired,
        f.live,
        f.manager,
      ]),
      [["data.v", '"1"', '"5"', "kubectl-edit"]],
    );
    const shown = JSON.stringify(found);
    for (const value of ["from-git-7", "by-hand-3"])
      for (const form of [value, Buffer.from(value).toString("base64")])
        assert.equal(shown.includes(form), false, `the findings hold a Secret value (${form})`);
    assert.match(JSON.stringify(drifted.Secret), /hidden/);
    const live = await client.call("GET", `/api/v1/namespaces/${namespace}/configmaps/flags`);
    assert.deepEqual((live as { data: unknown }).data, { v: "5" }, "looking changed nothing");

    const healed = await runAgentReconcile(client, { ...request, heal: { actor: "lead" } });
    assert.equal(healed.healError, undefined);
    assert.deepEqual(healed.healed?.restored.map((r) => r.name).sort(), ["flags", "token"]);
    const after = await client.call("GET", `/api/v1/namespaces/${namespace}/configmaps/flags`);
    assert.deepEqual((after as { data: unknown }).data, { v: "1" });
    const again = await runAgentReconcile(client, { ...request, heal: { actor: "lead" } });
    assert.deepEqual(
      [again.healed, again.objects.filter((o) => o.drift !== undefined)],
      [undefined, []],
      "in sync after the heal: nothing to heal",
    );
  });

  it("refuses to judge by a commit that is not the cluster's last successful release", async () => {
    const { env } = await released();
    await assert.rejects(
      runAgentReconcile(client, { cluster: "test", repository, sha: "two", env, grant, rendered }),
      (error: Error) => isPermanent(error) && /no longer two's success \(it is one: success\)/.test(error.message),
    );
  });
});
