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
  /** Path relative to the repository root, with the document index for multi-document files: `deploy/app.yaml#2`. */
  source: string;
}

/** Turns an environment's directory into Kubernetes objects. */
export interface Renderer {
  /** Renders `path` (relative to `root`, the extracted repository) into objects; throws a permanent FerryError naming the file on bad input. */
  render(root: string, path: string): Promise<RenderedObject[]>;
}
