import { stat } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import type { RenderMode } from "../config/ferry-config.js";
import { KubeClient } from "../kube/kube-client.js";
import { planEnvironment } from "../release/plan-environment.js";
import { createRenderer } from "../render/select-renderer.js";
import { fullPlanText } from "../report/plan-comment.js";

/** Options of `ferry plan`. */
export interface LocalPlanOptions {
  dir: string;
  context?: string;
  namespace: string;
  kubeconfig?: string;
  /** How `dir` is rendered; default `auto`, as in `.ferry.yml`. */
  render?: RenderMode;
  /** Helm release name; default `local`. */
  releaseName?: string;
}

/**
 * `ferry plan --dir`: the plan a release of a local directory would make, without a forge, printed
 * as text. Returns the exit code `flux diff` uses: 0 no changes, 1 changes, 2 error. The directory is
 * rendered as a release renders it (auto-detected Kustomize or Helm through FERRY_KUSTOMIZE/FERRY_HELM
 * or kustomize/helm on PATH), inside its git work tree, so an overlay may use bases elsewhere in it.
 */
export async function localPlan(options: LocalPlanOptions, out: (text: string) => void = (t) => process.stdout.write(t)): Promise<number> {
  const kc = new KubeConfig();
  if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
  else kc.loadFromDefault();
  if (options.context) kc.setCurrentContext(options.context);
  const client = await KubeClient.fromKubeConfig(kc);
  try {
    const dir = resolve(options.dir);
    const root = await workTree(dir);
    const renderer = createRenderer({ kustomize: process.env.FERRY_KUSTOMIZE ?? "kustomize", helm: process.env.FERRY_HELM ?? "helm" });
    const helm = options.releaseName !== undefined ? { releaseName: options.releaseName } : undefined;
    const target = { name: "local", path: relative(root, dir) || ".", namespace: options.namespace, render: options.render, helm };
    const rendered = await renderer.render(root, target);
    const cluster = options.context ?? kc.getCurrentContext();
    const plan = await planEnvironment({
      client,
      repository: "local",
      env: { ...target, branch: "-", cluster, prune: false },
      // The operator's own kubeconfig decides what may be read; there is no repository policy locally.
      grant: { cluster, namespaces: ["*"], clusterScopedKinds: ["*"] },
      rendered,
      sha: "local",
    });
    out(fullPlanText({ sha: "local", plans: [plan] }));
    return plan.objects.length > 0 ? 1 : 0;
  } catch (error) {
    out(`ferry plan: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  } finally {
    client.close();
  }
}

/** The git work tree holding `dir` (the nearest ancestor with `.git`), or `dir` itself outside one. */
async function workTree(dir: string): Promise<string> {
  for (let current = dir; ; current = dirname(current)) {
    if (await stat(join(current, ".git")).then(() => true, () => false)) return current;
    if (dirname(current) === current) return dir;
  }
}
