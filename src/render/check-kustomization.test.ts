import assert from "node:assert/strict";
import { mkdtemp, realpath, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { writeTree } from "../../test/support/file-tree.js";
import { FerryError } from "../errors.js";
import { checkKustomizations, isRemote } from "./check-kustomization.js";

/** The problems `checkKustomizations` reports, one per line; fails unless it throws a permanent FerryError. */
async function problems(promise: Promise<unknown>): Promise<string[]> {
  let message = "";
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof FerryError, `expected a FerryError, got ${String(error)}`);
    assert.equal(error.kind, "permanent");
    message = error.message;
    return true;
  });
  return message.split("\n");
}

const configMap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: base\n";

describe("checkKustomizations", () => {
  let work: string;
  let count = 0;

  /** A fresh repository holding `files`; returns its real path. */
  async function repo(files: Record<string, string>): Promise<string> {
    return realpath(await writeTree(path.join(work, `repo-${++count}`), files));
  }

  before(async () => {
    work = await mkdtemp(path.join(tmpdir(), "ferry-kustomization-"));
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("accepts a base, an overlay with patches, generators and components, all inside the repository", async () => {
    const root = await repo({
      "base/kustomization.yaml": "resources: [cm.yaml]\n",
      "base/cm.yaml": configMap,
      "components/extra/kustomization.yaml":
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [x.yaml]\n",
      "components/extra/x.yaml": configMap.replace("base", "x"),
      "overlay/kustomization.yml": [
        "resources: [../base]",
        "components: [../components/extra]",
        "patches:",
        "  - path: patch.yaml",
        "  - patch: |-",
        "      apiVersion: v1",
        "      kind: ConfigMap",
        "      metadata: {name: base}",
        "patchesStrategicMerge:",
        "  - |-",
        "    apiVersion: v1",
        "    kind: ConfigMap",
        "    metadata: {name: base}",
        '  - \'{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "base"}}\'',
        "configMapGenerator:",
        "  - name: gen",
        "    literals: [a=1]",
        "    files: [app.properties, key=app.properties]",
        "    envs: [vars.env]",
        "",
      ].join("\n"),
      "overlay/patch.yaml": configMap,
      "overlay/app.properties": "a=b\n",
      "overlay/vars.env": "A=1\n",
    });
    await checkKustomizations(root, path.join(root, "overlay"));
  });

  it("refuses remote resources and bases in every form kustomize fetches", async () => {
    const root = await repo({
      "app/kustomization.yaml": [
        "resources:",
        "  - https://github.com/kubernetes-sigs/kustomize//examples/helloWorld?ref=v1.0.6",
        "  - github.com/kubernetes-sigs/kustomize/examples/helloWorld",
        "  - git::https://example.com/repo.git",
        "  - git@github.com:acme/infra.git/base",
        "  - ./local?ref=main",
        "bases: [ssh://git@example.com/base]",
        "",
      ].join("\n"),
    });
    const lines = await problems(checkKustomizations(root, path.join(root, "app")));
    assert.equal(lines.length, 6, lines.join("\n"));
    for (const line of lines)
      assert.match(
        line,
        /^app\/kustomization\.yaml: (resources|bases): .* is a remote reference; Ferry renders only what the repository holds/,
      );
  });

  it("refuses absolute paths, paths outside the repository, also through a base or a symlink, and missing paths", async () => {
    const root = await repo({
      "deploy/staging/kustomization.yaml":
        "resources: [../../base, /etc/passwd, ../../../outside, missing.yaml]\nconfigMapGenerator:\n  - name: g\n    files: [k=../../../../etc/hostname]\n",
      "base/kustomization.yaml": "resources: [../../neighbour]\npatches:\n  - path: ../../x.yaml\n",
    });
    const lines = await problems(checkKustomizations(root, path.join(root, "deploy/staging")));
    assert.deepEqual(lines, [
      "deploy/staging/kustomization.yaml: resources: /etc/passwd is an absolute path; name files relative to the kustomization",
      "deploy/staging/kustomization.yaml: resources: ../../../outside is outside the repository",
      "deploy/staging/kustomization.yaml: resources: missing.yaml does not exist in the repository",
      "deploy/staging/kustomization.yaml: configMapGenerator.files: ../../../../etc/hostname is outside the repository",
      "base/kustomization.yaml: resources: ../../neighbour is outside the repository",
      "base/kustomization.yaml: patches.path: ../../x.yaml is outside the repository",
    ]);

    const linked = await repo({ "app/kustomization.yaml": "resources: [escape]\n" });
    await symlink(work, path.join(linked, "app/escape"));
    assert.deepEqual(await problems(checkKustomizations(linked, path.join(linked, "app"))), [
      "app/kustomization.yaml: resources: escape leads outside the repository through a symlink",
    ]);
  });

  it("refuses Helm inflation and a referenced directory without a kustomization", async () => {
    const root = await repo({
      "app/kustomization.yaml":
        "resources: [../plain]\nhelmCharts:\n  - name: redis\n    repo: https://charts.example.com\n",
      "plain/cm.yaml": configMap,
    });
    assert.deepEqual(await problems(checkKustomizations(root, path.join(root, "app"))), [
      "app/kustomization.yaml: helmCharts: Helm charts cannot be inflated by Kustomize in Ferry; render the chart as its own environment (render: helm)",
      "plain: holds no kustomization.yaml, kustomization.yml, Kustomization",
    ]);
  });

  it("tells remote references from local paths", () => {
    for (const ref of ["https://example.com/x", "git::https://x/y", "git@github.com:a/b", "base?ref=v1", "file:///etc"])
      assert.ok(isRemote(ref), ref);
    for (const ref of ["../base", "base", "my.app/base", "config.d/x.yaml"]) assert.ok(!isRemote(ref), ref);
  });
});
