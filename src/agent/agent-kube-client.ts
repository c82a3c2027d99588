import { permanent } from "../errors.js";
import { KubeClient } from "../kube/kube-client.js";
import { inClusterConnection, readKubeconfigContext } from "../kube/kubeconfig.js";

/** Where an agent's cluster is: its pod's ServiceAccount, or a kubeconfig context (tests; an agent beside it). */
export interface AgentKubeTarget {
  /** A kubeconfig file (default $KUBECONFIG or ~/.kube/config when `context` is given). */
  kubeconfig?: string;
  /** A kubeconfig context; with neither this nor `kubeconfig` the agent uses its in-cluster ServiceAccount. */
  context?: string;
}

/** The client of the agent's own cluster. Exec and auth-provider users are refused: an agent runs in its cluster. */
export async function agentKubeClient(target: AgentKubeTarget, cluster: string): Promise<KubeClient> {
  if (target.kubeconfig === undefined && target.context === undefined)
    return KubeClient.fromConnection(await inClusterConnection());
  const found = await readKubeconfigContext({
    context: target.context ?? "",
    what: `cluster "${cluster}"`,
    ...(target.kubeconfig === undefined ? {} : { file: target.kubeconfig }),
  });
  if (found.kind !== "static")
    throw permanent(`cluster "${cluster}": an agent does not run kubeconfig exec or auth-provider plugins`);
  return KubeClient.fromConnection(found.connection);
}
