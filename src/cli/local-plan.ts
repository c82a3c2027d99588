import { resolve } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { KubeClient } from "../kube/kube-client.js";
import { planEnvironment } from "../release/plan-environment.js";
import { PlainRenderer } from "../render/plain-renderer.js";
import { fullPlanText } from "../report/plan-comment.js";

/** Options of `ferry plan`. */
export interface LocalPlanOptions {
  dir: string;
  context?: string;
  namespace: string;
  kubeconfig?: string;
}

/**
 * `ferry plan --dir`: the plan a release of a local directory would make, without a forge, printed
 * as text. Returns the exit code `flux diff` uses: 0 no changes, 1 changes, 2 error.
 */
export async function localPlan(options: LocalPlanOptions, out: (text: string) => void = (t) => process.stdout.write(t)): Promise<number> {
  const kc = new KubeConfig();
  if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
  else kc.loadFromDefault();
  if (options.context) kc.setCurrentContext(options.context);
  const client = await KubeClient.fromKubeConfig(kc);
  try {
    const rendered = await new PlainRenderer().render(resolve(options.dir), ".");
    const cluster = options.context ?? kc.getCurrentContext();
    const plan = await planEnvironment({
      client,
      repository: "local",
      env: { name: "local", branch: "-", path: ".", cluster, namespace: options.namespace, prune: false },
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
