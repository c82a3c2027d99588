import type { Environment } from "../config/ferry-config.js";

/** A Kubernetes object as rendered from a repository or read from a cluster. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** One rendered object and where it came from, so errors can name the file. */
export interface RenderedObject {
  /** The object as written in the repository. */
  object: KubeObject;
  /**
   * Where it came from, relative to the repository root: `deploy/app.yaml#2` for plain manifests,
   * the template for Helm (`charts/shop/templates/web.yaml`), `kustomize build deploy/staging#3` for Kustomize.
   */
  source: string;
  /**
   * The forms of values decrypted from SOPS files that this object holds (see `secretForms`): masked
   * wherever the object is shown, and scrubbed from any error about it. Absent when it holds none.
   */
  secrets?: string[];
}

/** What a renderer needs to know of an environment: its path, how to render it, its name and namespace. */
export type RenderTarget = Pick<Environment, "name" | "path" | "namespace" | "render" | "helm">;

/** Whose repository is rendered, which decides the SOPS keys it may use. */
export interface RenderSource {
  /** The repository's full name (`acme/shop`). */
  repository: string;
  /** True for a pull request from a fork: its SOPS files are never decrypted. */
  fork?: boolean;
}

/** Turns an environment's directory into Kubernetes objects. */
export interface Renderer {
  /**
   * Renders `env.path` (relative to `root`, the extracted repository) into objects; throws a permanent
   * FerryError naming the file, or carrying the tool's own message, on bad input. With `source`, the
   * repository's SOPS files are decrypted first with the keys granted to it (without, they are not).
   */
  render(root: string, env: RenderTarget, source?: RenderSource): Promise<RenderedObject[]>;
}
