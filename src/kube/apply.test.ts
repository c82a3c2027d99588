import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createTestNamespace, testKubeConfig } from "../../test/support/kube.js";
import { applyFieldValidation, serverSideApply } from "./apply.js";
import type { DesiredObject } from "./desired-object.js";
import { KubeClient } from "./kube-client.js";
import { refKey, refOf } from "./object-ref.js";

describe("serverSideApply against a real kube-apiserver", () => {
  const kc = testKubeConfig();
  let client: KubeClient;
  let namespace: string;
  before(async () => {
    client = await KubeClient.fromKubeConfig(kc);
    namespace = await createTestNamespace(kc, "apply");
  });
  after(() => client.close());

  const configMap = (name: string, extra: Record<string, unknown> = {}): DesiredObject => {
    const object = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name, namespace },
      data: { color: "blue" },
      ...extra,
    };
    const ref = refOf(object);
    return { object, ref, key: refKey(ref), source: "deploy/cm.yaml", hash: "h", pendingCrd: false };
  };
  const live = async (name: string) =>
    (await client.call("GET", `/api/v1/namespaces/${namespace}/configmaps/${name}`)) as {
      metadata: { resourceVersion: string };
      data: Record<string, string>;
    };

  it("with metadataOnly, returns the metadata alone, whose resourceVersion is the live object's", async () => {
    const first = await serverSideApply(client, [configMap("meta")], { metadataOnly: true, fieldValidation: "Ignore" });
    assert.deepEqual(first.refused, []);
    const [applied] = first.applied;
    assert.equal(applied?.created, true);
    assert.equal(applied?.result.kind, "PartialObjectMetadata");
    assert.equal(applied?.result.data, undefined);
    assert.equal(applied?.resourceVersion, (await live("meta")).metadata.resourceVersion);
    assert.deepEqual((await live("meta")).data, { color: "blue" });

    const again = await serverSideApply(client, [configMap("meta")], { metadataOnly: true, fieldValidation: "Ignore" });
    assert.equal(again.applied[0]?.created, false);
    assert.equal(again.applied[0]?.resourceVersion, applied?.resourceVersion);
  });

  it("with metadataOnly, still tells why a dry-run create was refused, and writes nothing", async () => {
    const bad = configMap("unknown-field", { colour: "blue" });
    const { applied, refused } = await serverSideApply(client, [bad], {
      dryRun: true,
      absent: new Set([bad.key]),
      metadataOnly: true,
    });
    assert.deepEqual(applied, []);
    assert.equal(refused[0]?.status, 400);
    assert.match(refused[0]?.message ?? "", /unknown field "colour"/);
    const res = await client.request("GET", `/api/v1/namespaces/${namespace}/configmaps/unknown-field`);
    assert.equal(res.status, 404);
  });

  it("applies with fieldValidation=Ignore refuse unknown fields all the same (what applyFieldValidation relies on)", async () => {
    const body = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "ignored", namespace },
      data: { color: "blue" },
      colour: "blue",
    };
    const res = await client.request(
      "PATCH",
      `/api/v1/namespaces/${namespace}/configmaps/ignored?fieldManager=ferry&force=true&fieldValidation=Ignore`,
      body,
      "application/apply-patch+yaml",
    );
    assert.ok(res.status >= 400, `status ${res.status}`);
    assert.match((res.body as { message?: string }).message ?? "", /\.colour: field not declared in schema/);
    assert.equal((await client.request("GET", `/api/v1/namespaces/${namespace}/configmaps/ignored`)).status, 404);
  });

  it("refuses every object of a kind the server does not serve, in kubectl's words, rather than throwing at the first", async () => {
    const unserved = (apiVersion: string, kind: string): DesiredObject => {
      const object = { apiVersion, kind, metadata: { name: "x", namespace } };
      const ref = refOf(object);
      return { object, ref, key: refKey(ref), source: `deploy/${kind}.yaml`, hash: "h", pendingCrd: true };
    };
    const objects = [unserved("apps/v1beta1", "Deployment"), unserved("example.com/v1", "Widget")];
    const { applied, refused } = await serverSideApply(client, objects, { dryRun: true, metadataOnly: true });
    assert.deepEqual(applied, []);
    assert.deepEqual(refused.map((r) => [r.object.source, r.status, r.message]).sort(), [
      ["deploy/Deployment.yaml", 404, 'no matches for kind "Deployment" in version "apps/v1beta1"'],
      ["deploy/Widget.yaml", 404, 'no matches for kind "Widget" in version "example.com/v1"'],
    ]);
  });

  it("keeps applies strict when the release changed CRDs after validating", () => {
    assert.equal(applyFieldValidation(false), "Ignore");
    assert.equal(applyFieldValidation(true), "Strict");
  });
});
