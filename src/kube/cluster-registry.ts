import { KubeConfig } from "@kubernetes/client-node";
import type { ServerConfig } from "../config/server-config.js";
import { permanent } from "../errors.js";
import { KubeClient } from "./kube-client.js";

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
    const kc = new KubeConfig();
    if (cluster.inCluster) kc.loadFromCluster();
    else {
      if (cluster.kubeconfig) kc.loadFromFile(cluster.kubeconfig);
      else kc.loadFromDefault();
      if (!kc.getContextObject(cluster.context ?? "")) throw permanent(`cluster "${name}": no context "${cluster.context}" in the kubeconfig`);
      kc.setCurrentContext(cluster.context ?? "");
    }
    return KubeClient.fromKubeConfig(kc);
  }
}
