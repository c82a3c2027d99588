import { realpath, stat } from "node:fs/promises";
import path from "node:path";
import type { RenderMode } from "../config/ferry-config.js";
import { KUSTOMIZATION_FILES } from "./check-kustomization.js";
import { HelmRenderer } from "./helm-renderer.js";
import { KustomizeRenderer } from "./kustomize-renderer.js";
import { PlainRenderer } from "./plain-renderer.js";
import { resolveEnvironmentPath } from "./repo-paths.js";
import { DecryptingRenderer, type DecryptingRendererOptions } from "../sops/decrypting-renderer.js";
import type { ToolLimits } from "./tool-limits.js";
import type { RenderedObject, Renderer, RenderTarget } from "./types.js";

/** The renderer binaries (paths, or names looked up on PATH) and the limits they run under. */
export interface RendererOptions extends ToolLimits {
  /** The `kustomize` binary. */
  kustomize: string;
  /** The `helm` binary. */
  helm: string;
  /** The `sops` binary and the server config's key grants; without, SOPS files are never decrypted. */
  sops?: DecryptingRendererOptions;
}

/**
 * Builds the renderer the composition root hands to jobs: it picks plain, Kustomize or Helm per
 * environment, after decrypting the repository's SOPS files when given `sops`.
 */
export function createRenderer(options: RendererOptions): Renderer {
  const limits = { timeoutMs: options.timeoutMs, maxOutputBytes: options.maxOutputBytes };
  const selecting = new SelectingRenderer({
    plain: new PlainRenderer(),
    kustomize: new KustomizeRenderer({ command: options.kustomize, ...limits }),
    helm: new HelmRenderer({ command: options.helm, ...limits }),
  });
  return options.sops === undefined ? selecting : new DecryptingRenderer(selecting, options.sops);
}

/** A renderer for each concrete mode. */
export type RenderersByMode = Record<Exclude<RenderMode, "auto">, Renderer>;

/** Renders each environment with the renderer its `render` names, detecting it for `auto` (the default). */
export class SelectingRenderer implements Renderer {
  /** Creates a renderer delegating to `renderers`. */
  constructor(private readonly renderers: RenderersByMode) {}

  /** Renders `env.path` with the renderer its mode names. */
  async render(root: string, env: RenderTarget): Promise<RenderedObject[]> {
    const mode =
      env.render === undefined || env.render === "auto" ? await detectRenderMode(root, env.path) : env.render;
    return this.renderers[mode].render(root, env);
  }
}

/**
 * What `auto` means for a directory: Kustomize when it holds a kustomization (`kustomization.yaml`,
 * `kustomization.yml` or `Kustomization`, as kustomize looks for them), else Helm when it holds a
 * `Chart.yaml`, else plain manifests. Throws a permanent FerryError when the path is not a directory
 * inside the repository.
 */
export async function detectRenderMode(root: string, envPath: string): Promise<Exclude<RenderMode, "auto">> {
  const dir = await resolveEnvironmentPath(await realpath(root), envPath);
  const isFile = (name: string) =>
    stat(path.join(dir, name)).then(
      (s) => s.isFile(),
      () => false,
    );
  for (const name of KUSTOMIZATION_FILES) if (await isFile(name)) return "kustomize";
  if (await isFile("Chart.yaml")) return "helm";
  return "plain";
}
