import { randomBytes } from "node:crypto";
import { CoreV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy } from "@kubernetes/client-node";

/** The admin kubeconfig of the run's control plane (started by scripts/test). */
export function testKubeConfigPath(): string {
  const path = process.env.FERRY_TEST_KUBECONFIG;
  if (!path)
    throw new Error(
      "FERRY_TEST_KUBECONFIG is not set: run the tests through `npm test` (scripts/test), which starts the control plane",
    );
  return path;
}

/** A KubeConfig for the run's control plane. */
export function testKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(testKubeConfigPath());
  return kc;
}

/**
 * The contexts of the run's fleet, in the kubeconfig of {@link testKubeConfigPath}: `ferry-test`
 * (cluster 0, with controllers) first, then `ferry-test-1`... (bare API servers over the same etcd,
 * each with objects of its own). How many is FERRY_TEST_CLUSTERS of scripts/test (default 6).
 */
export function testFleetContexts(): string[] {
  const contexts = process.env.FERRY_TEST_FLEET_CONTEXTS;
  if (!contexts)
    throw new Error(
      "FERRY_TEST_FLEET_CONTEXTS is not set: run the tests through `npm test` (scripts/test), which starts the control plane's fleet",
    );
  return contexts.split(",");
}

/** A KubeConfig for one cluster of the run's fleet: the run's kubeconfig with `context` current. */
export function testKubeConfigFor(context: string): KubeConfig {
  const kc = testKubeConfig();
  if (!kc.getContextObject(context))
    throw new Error(
      `no context ${context} in ${testKubeConfigPath()}: contexts are ${kc
        .getContexts()
        .map((c) => c.name)
        .join(", ")}`,
    );
  kc.setCurrentContext(context);
  return kc;
}

/** A fresh name with a random suffix, so tests never share objects. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/** Creates a namespace of its own for a test; returns its name. */
export async function createTestNamespace(kc: KubeConfig, prefix = "t"): Promise<string> {
  const name = uniqueName(prefix);
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  return name;
}

/** Which object a hand edit changes. */
export interface ObjectPath {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

/**
 * Changes an object as a person with kubectl does, by a field manager of their own (`kubectl-edit`
 * unless given): Ferry sees another manager's change. A JSON merge patch, or with `strategic` a
 * strategic merge patch (as `kubectl edit` sends for built-in kinds: lists such as a container's
 * env merge by name instead of being replaced).
 */
export async function editByHand(
  kc: KubeConfig,
  path: ObjectPath,
  patch: Record<string, unknown> & { metadata?: Record<string, unknown> },
  options: { manager?: string; strategic?: boolean } = {},
): Promise<void> {
  const { apiVersion, kind, namespace, name } = path;
  await KubernetesObjectApi.makeApiClient(kc).patch(
    { ...patch, apiVersion, kind, metadata: { ...patch.metadata, name, ...(namespace ? { namespace } : {}) } },
    undefined,
    undefined,
    options.manager ?? "kubectl-edit",
    undefined,
    options.strategic ? PatchStrategy.StrategicMergePatch : PatchStrategy.MergePatch,
  );
}
