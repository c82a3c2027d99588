import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { writeScript, writeTree } from "../../test/support/file-tree.js";
import { FerryError } from "../errors.js";
import { KustomizeRenderer } from "./kustomize-renderer.js";

/** The real kustomize (scripts/test puts the one built from tools/kustomize on PATH). */
const KUSTOMIZE = process.env.FERRY_KUSTOMIZE ?? "kustomize";

/** Expects a permanent FerryError and returns its message. */
async function failure(promise: Promise<unknown>): Promise<string> {
  let message = "";
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(
      error instanceof FerryError && error.kind === "permanent",
      `expected a permanent FerryError, got ${String(error)}`,
    );
    message = error.message;
    return true;
  });
  return message;
}

const configMap = (name: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  from: base\n`;

describe("KustomizeRenderer", () => {
  let work: string;
  let count = 0;
  const renderer = new KustomizeRenderer({ command: KUSTOMIZE });
  const repo = (files: Record<string, string>) => writeTree(path.join(work, `repo-${++count}`), files);

  before(async () => {
    work = await mkdtemp(path.join(tmpdir(), "ferry-kustomize-"));
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("builds an overlay over a base with a patch and a generator whose name carries the content hash", async () => {
    const root = await repo({
      "base/kustomization.yaml": "resources: [web.yaml]\n",
      "base/web.yaml": configMap("web"),
      "overlays/staging/kustomization.yaml":
        "resources: [../../base]\nnamePrefix: staging-\npatches: [{path: patch.yaml}]\nconfigMapGenerator:\n  - name: settings\n    literals: [colour=blue]\n",
      "overlays/staging/patch.yaml":
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  from: overlay\n",
    });
    const objects = await renderer.render(root, { path: "overlays/staging" });
    assert.deepEqual(
      objects.map((o) => o.source),
      ["kustomize build overlays/staging#1", "kustomize build overlays/staging#2"],
    );
    const [settings, web] = objects.map((o) => o.object);
    assert.deepEqual(web?.metadata.name, "staging-web");
    assert.deepEqual(web?.data, { from: "overlay" });
    assert.match(settings?.metadata.name ?? "", /^staging-settings-[a-z0-9]{10}$/);
  });

  it("refuses a remote base or a path outside the repository without running kustomize", async () => {
    const never = new KustomizeRenderer({ command: path.join(work, "no-kustomize-here") });
    const remote = await repo({
      "app/kustomization.yaml": "resources: [https://github.com/acme/infra//base?ref=v1]\n",
    });
    assert.match(
      await failure(never.render(remote, { path: "app" })),
      /^app\/kustomization\.yaml: resources: https:\/\/github\.com\/acme\/infra\/\/base\?ref=v1 is a remote reference/,
    );
    const outside = await repo({ "app/kustomization.yaml": "resources: [../../../etc]\n" });
    assert.equal(
      await failure(never.render(outside, { path: "app" })),
      "app/kustomization.yaml: resources: ../../../etc is outside the repository",
    );
  });

  it("reports kustomize's own message on a broken kustomization", async () => {
    const root = await repo({
      "app/kustomization.yaml": "resources: [cm.yaml]\n",
      "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n",
    });
    const message = await failure(renderer.render(root, { path: "app" }));
    assert.match(message, /^kustomize build app failed: .*missing metadata\.name/);
    assert.doesNotMatch(message, /^kustomize build app failed: Error:/);
  });

  it("does not run exec functions or plugins", async () => {
    const root = await repo({
      "app/kustomization.yaml": "resources: [cm.yaml]\ngenerators: [gen.yaml]\n",
      "app/cm.yaml": configMap("cm"),
      "app/gen.yaml":
        "apiVersion: example.com/v1\nkind: Evil\nmetadata:\n  name: evil\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: /bin/touch\n",
    });
    const message = await failure(renderer.render(root, { path: "app" }));
    assert.match(message, /^kustomize build app failed: .*(plugin|exec|function)/i);
  });

  it("stops a kustomize that hangs at the time limit, with a clear message", async () => {
    const hanging = await writeScript(path.join(work, "bin/kustomize"), "sleep 300");
    const root = await repo({ "app/kustomization.yaml": "resources: []\n" });
    const started = Date.now();
    const message = await failure(
      new KustomizeRenderer({ command: hanging, timeoutMs: 500 }).render(root, { path: "app" }),
    );
    assert.equal(message, "kustomize build app did not finish within 0.5 s and was stopped");
    assert.ok(Date.now() - started < 5_000);
  });
});
