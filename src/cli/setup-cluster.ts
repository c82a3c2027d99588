import { KubeConfig } from "@kubernetes/client-node";
import { apiError, KubeClient } from "../kube/kube-client.js";
import { VALIDATION_NAMESPACE, validationNamespaceObject } from "../release/validation-namespace.js";

/** Options of `ferry setup-cluster`. */
export interface SetupClusterOptions {
  /** Contexts to prepare; default the kubeconfig's current one. */
  context?: string[];
  kubeconfig?: string;
}

/**
 * `ferry setup-cluster`: creates Ferry's validation namespace in each context's cluster where it
 * does not exist (nothing is written where it does), saying for each whether it was there.
 * Returns 0 when every cluster is ready, 2 when one is not.
 */
export async function setupCluster(
  options: SetupClusterOptions,
  out: (text: string) => void = (t) => process.stdout.write(t),
): Promise<number> {
  let code = 0;
  const kc = new KubeConfig();
  try {
    if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
    else kc.loadFromDefault();
  } catch (error) {
    out(`ferry setup-cluster: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  for (const context of options.context ?? [kc.getCurrentContext()]) {
    let client: KubeClient | undefined;
    try {
      if (!kc.getContextObject(context)) throw new Error(`no context "${context}" in the kubeconfig`);
      kc.setCurrentContext(context);
      client = await KubeClient.fromKubeConfig(kc);
      const path = `/api/v1/namespaces/${VALIDATION_NAMESPACE}`;
      const found = await client.request("GET", path);
      if (found.status === 200) {
        out(`${context}: namespace ${VALIDATION_NAMESPACE} is there already\n`);
        continue;
      }
      if (found.status !== 404) throw apiError(found);
      const created = await client.request(
        "POST",
        "/api/v1/namespaces?fieldManager=ferry",
        validationNamespaceObject(),
      );
      // 409: another run created it meanwhile.
      if (created.status !== 201 && created.status !== 409) throw apiError(created);
      out(`${context}: namespace ${VALIDATION_NAMESPACE} ${created.status === 201 ? "created" : "is there already"}\n`);
    } catch (error) {
      out(`ferry setup-cluster: ${context}: ${error instanceof Error ? error.message : String(error)}\n`);
      code = 2;
    } finally {
      client?.close();
    }
  }
  return code;
}
