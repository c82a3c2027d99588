import { randomBytes } from "node:crypto";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";

/** The admin kubeconfig of the run's control plane (started by scripts/test). */
export function testKubeConfigPath(): string {
  const path = process.env.FERRY_TEST_KUBECONFIG;
  if (!path) throw new Error("FERRY_TEST_KUBECONFIG is not set: run the tests through `npm test` (scripts/test), which starts the control plane");
  return path;
}

/** A KubeConfig for the run's control plane. */
export function testKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(testKubeConfigPath());
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
