import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isPermanent } from "../src/errors.js";
import { KubeClient } from "../src/kube/kube-client.js";
import { releaseEnvironment } from "../src/release/release-session.js";
import type { RenderedObject } from "../src/render/types.js";
import { createTestNamespace, testKubeConfig, uniqueName } from "./support/kube.js";

/** A CustomResourceDefinition of `kind` in `group` that serves v1 and keeps v1alpha1 defined but unserved. */
function crd(group: string, kind: string): RenderedObject {
  const plural = `${kind.toLowerCase()}s`;
  const version = (name: string, served: boolean) => ({
    name,
    served,
    storage: served,
    schema: { openAPIV3Schema: { type: "object" } },
  });
  return {
    object: {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: `${plural}.${group}` },
      spec: {
        group,
        scope: "Namespaced",
        names: { kind, plural },
        versions: [version("v1", true), version("v1alpha1", false)],
      },
    },
    source: `crds/${plural}.yaml`,
  };
}

describe("a release's kinds and the versions that serve them", () => {
  const kc = testKubeConfig();
  let client: KubeClient;
  let namespace: string;
  before(async () => {
    client = await KubeClient.fromKubeConfig(kc);
    namespace = await createTestNamespace(kc, "unserved");
  });
  after(() => client.close());

  /** Releases `rendered` into the test's namespace, with leave to create CRDs. */
  const release = (rendered: RenderedObject[]) =>
    releaseEnvironment({
      client,
      repository: "acme/unserved",
      env: { name: "unserved", branch: "main", path: ".", cluster: "ferry-test", namespace, prune: false },
      grant: { cluster: "ferry-test", namespaces: [namespace], clusterScopedKinds: ["CustomResourceDefinition"] },
      rendered,
      sha: "one",
      actor: "test",
    });

  test("objects in the version their release's CRD serves are applied once the CRD is established", async () => {
    const group = `${uniqueName("served")}.example.com`;
    const widget = {
      object: { apiVersion: `${group}/v1`, kind: "Widget", metadata: { name: "w" } },
      source: "deploy/widget.yaml",
    };
    const result = await release([crd(group, "Widget"), widget]);
    assert.deepEqual(result.created.map((r) => r.kind).sort(), ["CustomResourceDefinition", "Widget"]);
    assert.equal((await client.request("GET", `/apis/${group}/v1/namespaces/${namespace}/widgets/w`)).status, 200);
  });

  test("fails at once, naming every such object in kubectl's words, and applies nothing (not even its CRDs)", async () => {
    const group = `${uniqueName("unserved")}.example.com`;
    const rendered: RenderedObject[] = [
      crd(group, "Widget"),
      crd(group, "Gadget"),
      {
        object: { apiVersion: `${group}/v1alpha1`, kind: "Widget", metadata: { name: "w" } },
        source: "deploy/widget.yaml",
      },
      {
        object: { apiVersion: `${group}/v1alpha1`, kind: "Gadget", metadata: { name: "g" } },
        source: "deploy/gadget.yaml",
      },
      { object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "fine" } }, source: "deploy/cm.yaml" },
    ];
    const failure = await release(rendered).then(
      () => assert.fail("the release succeeded"),
      (error: unknown) => error as Error,
    );
    assert.ok(isPermanent(failure), `a permanent error, not one to retry: ${String(failure)}`);
    const lines = failure.message.split("\n");
    assert.ok(
      lines.some((l) =>
        l.startsWith(`Widget w (deploy/widget.yaml): no matches for kind "Widget" in version "${group}/v1alpha1"`),
      ),
      failure.message,
    );
    assert.ok(
      lines.some((l) =>
        l.startsWith(`Gadget g (deploy/gadget.yaml): no matches for kind "Gadget" in version "${group}/v1alpha1"`),
      ),
      failure.message,
    );
    for (const name of [`widgets.${group}`, `gadgets.${group}`]) {
      const res = await client.request("GET", `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
      assert.equal(res.status, 404, `${name} was not created`);
    }
    assert.equal((await client.request("GET", `/api/v1/namespaces/${namespace}/configmaps/fine`)).status, 404);
  });
});
