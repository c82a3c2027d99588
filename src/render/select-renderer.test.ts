import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { writeTree } from "../../test/support/file-tree.js";
import type { RenderMode } from "../config/ferry-config.js";
import { detectRenderMode, SelectingRenderer } from "./select-renderer.js";
import type { Renderer } from "./types.js";

/** A renderer that renders one ConfigMap named after itself, so a test sees which one ran. */
function named(name: string): Renderer {
  return {
    render: () =>
      Promise.resolve([{ object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name } }, source: name }]),
  };
}

describe("renderer selection", () => {
  let root: string;
  before(async () => {
    const work = await mkdtemp(path.join(tmpdir(), "ferry-select-"));
    root = await writeTree(path.join(work, "repo"), {
      "kustomize/kustomization.yaml": "resources: []\n",
      "kustomize-yml/kustomization.yml": "resources: []\n",
      "kustomize-capital/Kustomization": "resources: []\n",
      "chart/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
      "both/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
      "both/kustomization.yaml": "resources: []\n",
      "plain/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
      "plain/sub/kustomization.yaml": "resources: []\n",
      "plain/sub/Chart.yaml": "apiVersion: v2\n",
    });
  });
  after(async () => {
    await rm(path.dirname(root), { recursive: true, force: true });
  });

  it("detects Kustomize by any of kustomize's file names, then Helm by Chart.yaml, else plain; only in the directory itself", async () => {
    const cases: Array<[string, RenderMode]> = [
      ["kustomize", "kustomize"],
      ["kustomize-yml", "kustomize"],
      ["kustomize-capital", "kustomize"],
      ["chart", "helm"],
      ["both", "kustomize"],
      ["plain", "plain"],
      [".", "plain"],
    ];
    for (const [dir, mode] of cases) assert.equal(await detectRenderMode(root, dir), mode, dir);
  });

  it("refuses to detect in a path outside the repository", async () => {
    await assert.rejects(detectRenderMode(root, "../x"), /environment path \.\.\/x must not contain \.\./);
  });

  it("uses the renderer the environment names, and detects it for auto or none", async () => {
    const renderer = new SelectingRenderer({
      plain: named("plain"),
      kustomize: named("kustomize"),
      helm: named("helm"),
    });
    const ran = async (envPath: string, render?: RenderMode) =>
      (await renderer.render(root, { name: "e", namespace: "n", path: envPath, render }))[0]?.source;
    assert.equal(await ran("chart"), "helm");
    assert.equal(await ran("kustomize", "auto"), "kustomize");
    assert.equal(await ran("plain", "auto"), "plain");
    assert.equal(await ran("chart", "plain"), "plain");
    assert.equal(await ran("plain", "helm"), "helm");
  });
});
