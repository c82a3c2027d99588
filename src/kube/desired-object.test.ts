import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createTestNamespace, testKubeConfig, uniqueName } from "../../test/support/kube.js";
import { isPermanent } from "../errors.js";
import type { KubeObject } from "../render/types.js";
import { prepareObjects } from "./desired-object.js";
import { KubeClient } from "./kube-client.js";

describe("prepareObjects against a real kube-apiserver", () => {
  const kc = testKubeConfig();
  let client: KubeClient;
  let namespace: string;
  before(async () => {
    client = await KubeClient.fromKubeConfig(kc);
    namespace = await createTestNamespace(kc, "prepare");
  });
  after(() => client.close());

  const object = (apiVersion: string, kind: string, name = "x"): KubeObject => ({
    apiVersion,
    kind,
    metadata: { name },
  });
  /** A CustomResourceDefinition of `kind` in `group`, serving v1 and defining v1alpha1 without serving it. */
  const crd = (group: string, kind: string): KubeObject => ({
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${kind.toLowerCase()}s.${group}` },
    spec: {
      group,
      scope: "Namespaced",
      names: { kind, plural: `${kind.toLowerCase()}s` },
      versions: [
        { name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object" } } },
        { name: "v1alpha1", served: false, storage: false, schema: { openAPIV3Schema: { type: "object" } } },
      ],
    },
  });

  it("names every kind the cluster does not serve in one permanent error, in kubectl's words, with the versions it does serve", async () => {
    const group = `${uniqueName("prepare")}.example.com`;
    const rendered = [
      { object: object("apps/v1beta1", "Deployment", "web"), source: "deploy/web.yaml" },
      { object: object("example.com/v1", "Widget"), source: "deploy/widget.yaml" },
      { object: crd(group, "Gadget"), source: "deploy/crd.yaml" },
      { object: object(`${group}/v1alpha1`, "Gadget", "old"), source: "deploy/gadget.yaml#1" },
      { object: object(`${group}/v1`, "Gadget", "new"), source: "deploy/gadget.yaml#2" },
      { object: object("v1", "ConfigMap"), source: "deploy/cm.yaml" },
    ];
    const error = await prepareObjects(client, rendered, namespace, "inv").then(
      () => assert.fail("prepared objects the cluster does not serve"),
      (e: unknown) => e as Error,
    );
    assert.ok(isPermanent(error), String(error));
    assert.deepEqual(error.message.split("\n").sort(), [
      `Deployment web (deploy/web.yaml): no matches for kind "Deployment" in version "apps/v1beta1" (the cluster serves it as apps/v1)`,
      `Gadget old (deploy/gadget.yaml#1): no matches for kind "Gadget" in version "${group}/v1alpha1" (the CustomResourceDefinition in this release serves it as ${group}/v1)`,
      `Widget x (deploy/widget.yaml): no matches for kind "Widget" in version "example.com/v1" (ensure CRDs are installed first)`,
    ]);
  });

  it("takes an object of a version its release's CustomResourceDefinition serves, for applying once the CRD is established", async () => {
    const group = `${uniqueName("prepare")}.example.com`;
    const rendered = [
      { object: crd(group, "Gadget"), source: "deploy/crd.yaml" },
      { object: object(`${group}/v1`, "Gadget", "new"), source: "deploy/gadget.yaml" },
    ];
    const desired = await prepareObjects(client, rendered, namespace, "inv");
    assert.deepEqual(
      desired.map((d) => [d.ref.kind, d.ref.namespace, d.pendingCrd]),
      [
        ["CustomResourceDefinition", undefined, false],
        ["Gadget", namespace, true],
      ],
    );
  });

  it('refuses a take-over annotation other than "true", naming the object: an opt-in that could mean anything does nothing', async () => {
    const annotated = (name: string, value: string): KubeObject => ({
      ...object("v1", "ConfigMap", name),
      metadata: { name, annotations: { "ferry.dev/take-over": value } },
    });
    const error = await prepareObjects(
      client,
      [
        { object: annotated("yes", "yes"), source: "deploy/a.yaml" },
        { object: annotated("ok", "true"), source: "deploy/b.yaml" },
      ],
      namespace,
      "inv",
    ).then(
      () => assert.fail("accepted ferry.dev/take-over: yes"),
      (e: unknown) => e as Error,
    );
    assert.ok(isPermanent(error));
    assert.equal(
      error.message,
      'ConfigMap yes (deploy/a.yaml): annotation ferry.dev/take-over must be "true" (take the object over from the environment that owns it), not "yes"',
    );
  });
});
