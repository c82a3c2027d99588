import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { writeScript, writeTree } from "../../test/support/file-tree.js";
import { FerryError } from "../errors.js";
import type { HelmOptions } from "../config/ferry-config.js";
import { HelmRenderer } from "./helm-renderer.js";

/** The real helm (scripts/test puts the one built from tools/helm on PATH). */
const HELM = process.env.FERRY_HELM ?? "helm";

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

/** A chart `shop` rendering one ConfigMap from its values, plus `extra` files. */
function chart(extra: Record<string, string> = {}, chartYaml = ""): Record<string, string> {
  return {
    "charts/shop/Chart.yaml": `apiVersion: v2\nname: shop\nversion: 0.1.0\n${chartYaml}`,
    "charts/shop/values.yaml": "colour: blue\nsize: m\nreplicas: 1\n",
    "charts/shop/templates/settings.yaml": [
      "apiVersion: v1",
      "kind: ConfigMap",
      "metadata:",
      "  name: {{ .Release.Name }}-settings",
      "  namespace: {{ .Release.Namespace }}",
      "data:",
      "  colour: {{ .Values.colour | quote }}",
      "  size: {{ .Values.size | quote }}",
      "  replicas: {{ .Values.replicas | quote }}",
      "",
    ].join("\n"),
    ...extra,
  };
}

describe("HelmRenderer", () => {
  let work: string;
  let count = 0;
  const renderer = new HelmRenderer({ command: HELM });
  const repo = (files: Record<string, string>) => writeTree(path.join(work, `repo-${++count}`), files);
  const target = (helm?: HelmOptions) => ({ name: "staging", path: "charts/shop", namespace: "shop", helm });

  before(async () => {
    work = await mkdtemp(path.join(tmpdir(), "ferry-helm-"));
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("renders the chart with the release name, namespace, values files in order, then inline values", async () => {
    const root = await repo(
      chart({
        "charts/shop/values-staging.yaml": "colour: green\nsize: l\n",
        "charts/shop/env/more.yaml": "size: xl\n",
      }),
    );
    const [settings, ...rest] = await renderer.render(
      root,
      target({ valuesFiles: ["values-staging.yaml", "env/more.yaml"], values: { replicas: 3 } }),
    );
    assert.equal(rest.length, 0);
    assert.equal(settings?.source, "charts/shop/templates/settings.yaml");
    assert.deepEqual(settings?.object.metadata, { name: "staging-settings", namespace: "shop" });
    assert.deepEqual(settings?.object.data, { colour: "green", size: "xl", replicas: "3" });
    const [named] = await renderer.render(root, target({ releaseName: "web" }));
    assert.equal(named?.object.metadata.name, "web-settings");
  });

  it("renders vendored dependencies and CRDs, and refuses a dependency that is not vendored, naming it", async () => {
    const dependency = "dependencies:\n  - name: redis\n    version: 1.x\n    repository: https://charts.example.com\n";
    const vendored = await repo(
      chart(
        {
          "charts/shop/charts/redis/Chart.yaml": "apiVersion: v2\nname: redis\nversion: 1.2.0\n",
          "charts/shop/charts/redis/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: redis\n",
          "charts/shop/crds/widgets.yaml":
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\n",
        },
        dependency,
      ),
    );
    const objects = await renderer.render(vendored, target());
    assert.deepEqual(objects.map((o) => o.source).sort(), [
      "charts/shop/charts/redis/templates/cm.yaml",
      "charts/shop/crds/widgets.yaml",
      "charts/shop/templates/settings.yaml",
    ]);

    const missing = await repo(chart({}, dependency));
    assert.equal(
      await failure(renderer.render(missing, target())),
      "chart charts/shop: dependency redis (from https://charts.example.com) is not vendored in charts/shop/charts/; Ferry renders charts without network access: run helm dependency build and commit the charts/ directory",
    );
  });

  it("refuses values files outside the chart's directory", async () => {
    const root = await repo(chart({ "secrets.yaml": "colour: red\n" }));
    assert.match(
      await failure(renderer.render(root, target({ valuesFiles: ["../../secrets.yaml"] }))),
      /values file \.\.\/\.\.\/secrets\.yaml must be a relative path inside the chart's directory/,
    );
    assert.match(
      await failure(renderer.render(root, target({ valuesFiles: ["missing.yaml"] }))),
      /values file charts\/shop\/missing\.yaml does not exist/,
    );
  });

  it("refuses hooks by default, leaves out tests, and leaves out every hook with hooks: skip", async () => {
    const root = await repo(
      chart({
        "charts/shop/templates/migrate.yaml":
          "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations:\n    helm.sh/hook: pre-upgrade\nspec: {}\n",
        "charts/shop/templates/tests/ping.yaml":
          "apiVersion: v1\nkind: Pod\nmetadata:\n  name: ping\n  annotations:\n    helm.sh/hook: test\n",
      }),
    );
    assert.match(
      await failure(renderer.render(root, target())),
      /^chart charts\/shop has Helm hooks, which Ferry does not run: Job migrate \(pre-upgrade\);/,
    );
    assert.deepEqual(
      (await renderer.render(root, target({ hooks: "skip" }))).map((o) => o.object.metadata.name),
      ["staging-settings"],
    );
  });

  it("reports helm's own message on a broken template", async () => {
    const root = await repo(chart({ "charts/shop/templates/bad.yaml": "{{ .Values.nope.deeper }}\n" }));
    assert.match(
      await failure(renderer.render(root, target())),
      /^helm template charts\/shop failed: .*bad\.yaml.*nil pointer/,
    );
  });

  it("stops a helm that hangs at the time limit, with a clear message", async () => {
    const hanging = await writeScript(path.join(work, "bin/helm"), "sleep 300");
    const root = await repo(chart());
    const message = await failure(new HelmRenderer({ command: hanging, timeoutMs: 300 }).render(root, target()));
    assert.equal(message, "helm template charts/shop did not finish within 0.3 s and was stopped");
  });
});
