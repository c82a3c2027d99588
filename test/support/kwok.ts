import { CoreV1Api, type KubeConfig, type V1Node } from "@kubernetes/client-node";
import { waitUntil } from "./wait-until.js";

/** The annotation kwok (started by scripts/control-plane) selects the nodes it plays by. */
export const KWOK_ANNOTATION = "kwok.x-k8s.io/node";

/** The label on every fake node: a pod's `nodeSelector` can target it, or name another value to match no node. */
export const FAKE_NODE_LABEL = "ferry.dev/node";

/** The label's value on fake nodes. */
export const FAKE_NODE_VALUE = "kwok";

/** Names of the fake nodes the tests share (one control plane serves the whole run). */
const NODE_NAMES = ["kwok-node-0", "kwok-node-1"];

/**
 * Makes sure the run's fake Nodes exist and are Ready, so Deployments, ReplicaSets, Jobs and Pods
 * really roll out: kube-scheduler binds pods to them and kwok plays their kubelet (pods become
 * ready, Job pods complete). Safe to call from every test file at once; returns the node names.
 */
export async function ensureFakeNodes(kc: KubeConfig, timeoutMs = 30_000): Promise<string[]> {
  const api = kc.makeApiClient(CoreV1Api);
  await Promise.all(
    NODE_NAMES.map((name) =>
      api.createNode({ body: fakeNode(name) }).catch((error: unknown) => {
        if ((error as { code?: number }).code !== 409) throw error;
      }),
    ),
  );
  let nodes: V1Node[] = [];
  await waitUntil(
    () =>
      `fake nodes not ready (is kwok running? scripts/control-plane up): ${JSON.stringify(nodes.map((n) => n.status?.conditions))}`,
    async () => (nodes = await Promise.all(NODE_NAMES.map((name) => api.readNode({ name })))).every(schedulable),
    timeoutMs,
  );
  return NODE_NAMES;
}

function fakeNode(name: string): V1Node {
  const resources = { cpu: "64", memory: "256Gi", pods: "500" };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      annotations: { [KWOK_ANNOTATION]: "fake", "node.alpha.kubernetes.io/ttl": "0" },
      labels: {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        type: "kwok",
        [FAKE_NODE_LABEL]: FAKE_NODE_VALUE,
      },
    },
    status: { allocatable: resources, capacity: resources },
  };
}

/** Ready, and without the not-ready taint the node lifecycle controller puts on new nodes. */
function schedulable(node: V1Node): boolean {
  const ready = node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;
  return ready && !(node.spec?.taints ?? []).some((t) => t.key.startsWith("node.kubernetes.io/"));
}
