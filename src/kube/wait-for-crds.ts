import { transient } from "../errors.js";
import type { KubeClient } from "./kube-client.js";

/** Waits until every named CustomResourceDefinition reports `Established`, so its kinds are served. */
export async function waitForCrds(client: KubeClient, names: string[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const name of names) {
    for (;;) {
      const res = await client.request("GET", `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
      const conditions =
        (res.body as { status?: { conditions?: Array<{ type: string; status: string }> } } | undefined)?.status
          ?.conditions ?? [];
      if (conditions.some((c) => c.type === "Established" && c.status === "True")) break;
      if (Date.now() > deadline)
        throw transient(`CustomResourceDefinition ${name} was not established within ${timeoutMs / 1000}s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
