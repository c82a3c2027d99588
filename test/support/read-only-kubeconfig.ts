import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import { KubeClient } from "../../src/kube/kube-client.js";
import { testKubeConfig, uniqueName } from "./kube.js";

/**
 * Makes credentials that may read everything and write nothing on the run's cluster: a
 * ServiceAccount bound to a ClusterRole of get, list and watch on every resource, with a token from
 * the TokenRequest API; writes a kubeconfig for it (context `ferry-test`) into `dir` and returns its
 * path. `cleanup` removes the cluster-wide role and binding.
 */
export async function readOnlyKubeconfig(
  dir: string,
): Promise<{ path: string; user: string; cleanup: () => Promise<void> }> {
  const kc = testKubeConfig();
  const client = await KubeClient.fromKubeConfig(kc);
  try {
    const namespace = uniqueName("viewer");
    const name = uniqueName("ferry-read-only");
    await client.call("POST", "/api/v1/namespaces", { metadata: { name: namespace } });
    await client.call("POST", `/api/v1/namespaces/${namespace}/serviceaccounts`, { metadata: { name: "viewer" } });
    await client.call("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", {
      metadata: { name },
      rules: [{ apiGroups: ["*"], resources: ["*"], verbs: ["get", "list", "watch"] }],
    });
    await client.call("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
      metadata: { name },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
      subjects: [{ kind: "ServiceAccount", name: "viewer", namespace }],
    });
    const request = await client.call("POST", `/api/v1/namespaces/${namespace}/serviceaccounts/viewer/token`, {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: { expirationSeconds: 3600 },
    });
    const token = (request as { status: { token: string } }).status.token;
    const cluster = kc.getCluster("ferry-test");
    if (!cluster) throw new Error("no cluster ferry-test in the run's kubeconfig");
    const path = join(dir, `${name}.kubeconfig`);
    await writeFile(
      path,
      stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [
          { name: "ferry-test", cluster: { server: cluster.server, "certificate-authority": cluster.caFile } },
        ],
        users: [{ name: "viewer", user: { token } }],
        contexts: [{ name: "ferry-test", context: { cluster: "ferry-test", user: "viewer" } }],
        "current-context": "ferry-test",
      }),
    );
    const cleanup = async () => {
      const admin = await KubeClient.fromKubeConfig(testKubeConfig());
      await admin.request("DELETE", `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${name}`);
      await admin.request("DELETE", `/apis/rbac.authorization.k8s.io/v1/clusterroles/${name}`);
      admin.close();
    };
    return { path, user: `system:serviceaccount:${namespace}:viewer`, cleanup };
  } finally {
    client.close();
  }
}
