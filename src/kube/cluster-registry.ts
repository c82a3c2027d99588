import type { ServerConfig } from "../config/server-config.js";
import { permanent } from "../errors.js";
import { KubeClient } from "./kube-client.js";
import { inClusterConnection, readKubeconfigContext } from "./kubeconfig.js";

/** The clusters the operator registered, connected on first use and kept for the process's life. */
export class ClusterRegistry {
  private readonly clients = new Map<string, Promise<KubeClient>>();

  /** Builds the registry from the server config. */
  constructor(private readonly config: ServerConfig) {}

  /** The client for a registered cluster. */
  client(name: string): Promise<KubeClient> {
    let client = this.clients.get(name);
    if (!client) {
      client = this.connect(name);
      this.clients.set(name, client);
      client.catch(() => this.clients.delete(name));
    }
    return client;
  }

  /** Closes every connection. */
  async close(): Promise<void> {
    for (const client of this.clients.values()) (await client.catch(() => undefined))?.close();
    this.clients.clear();
  }

  private async connect(name: string): Promise<KubeClient> {
    const cluster = this.config.clusters.find((c) => c.name === name);
    if (!cluster) throw permanent(`cluster "${name}" is not registered with Ferry`);
    // Ferry holds no credentials for an agent cluster: only its agent, inside it, talks to its API server.
    if (cluster.agent)
      throw permanent(`cluster "${name}" is reached through its agent (agent: true); Ferry cannot connect to it`);
    if (cluster.inCluster) return KubeClient.fromConnection(await inClusterConnection());
    const context = cluster.context ?? "";
    const found = await readKubeconfigContext({
      context,
      what: `cluster "${name}"`,
      ...(cluster.kubeconfig === undefined ? {} : { file: cluster.kubeconfig }),
    });
    if (found.kind === "static") return KubeClient.fromConnection(found.connection);
    // An exec or auth-provider plugin: @kubernetes/client-node runs it, loaded only for such clusters.
    const { KubeConfig } = await import("@kubernetes/client-node");
    const kc = new KubeConfig();
    if (cluster.kubeconfig) kc.loadFromFile(cluster.kubeconfig);
    else kc.loadFromDefault();
    kc.setCurrentContext(context);
    return KubeClient.fromKubeConfig(kc);
  }
}
