import { realpath } from "node:fs/promises";
import { permanent } from "../errors.js";
import { checkKustomizations } from "./check-kustomization.js";
import { formatProblems, parseManifests } from "./parse-manifests.js";
import { resolveEnvironmentPath } from "./repo-paths.js";
import { runTool } from "./run-tool.js";
import { DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_TIMEOUT_MS, type ToolLimits } from "./tool-limits.js";
import type { RenderedObject, Renderer, RenderTarget } from "./types.js";

/** Where the `kustomize` binary is, and the limits it runs under. */
export interface KustomizeRendererOptions extends ToolLimits {
  /** The `kustomize` binary: a path, or a name looked up on PATH. */
  command: string;
}

/**
 * Renders a kustomization with `kustomize build`, safely: every kustomization it reaches is checked
 * first (no remote bases or resources, nothing outside the repository, no Helm inflation), then
 * kustomize runs with the root-only load restrictor, without exec functions or plugins (neither
 * `--enable-exec` nor `--enable-alpha-plugins`), under a time limit and output cap, with no network
 * or credentials (see `runTool`).
 */
export class KustomizeRenderer implements Renderer {
  /** Creates a renderer running the given binary. */
  constructor(private readonly options: KustomizeRendererOptions) {}

  /** Builds the kustomization in `env.path`; objects are named `kustomize build <path>#<n>`, in kustomize's order. */
  async render(root: string, env: Pick<RenderTarget, "path">): Promise<RenderedObject[]> {
    const realRoot = await realpath(root);
    const dir = await resolveEnvironmentPath(realRoot, env.path);
    await checkKustomizations(realRoot, dir);
    const label = `kustomize build ${env.path}`;
    const output = await runTool({
      label,
      command: this.options.command,
      args: ["build", "--load-restrictor", "LoadRestrictionsRootOnly", dir],
      cwd: dir,
      timeoutMs: this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      maxOutputBytes: this.options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
    });
    const problems: string[] = [];
    const objects = parseManifests(output, label, problems);
    if (problems.length > 0) throw permanent(formatProblems(problems));
    return objects;
  }
}
