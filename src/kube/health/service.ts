import { current, inProgress } from "./object-status.js";
import type { HealthCheck } from "./types.js";

/**
 * A Service of type LoadBalancer is current once the cloud's load balancer gave it an address;
 * every other Service is current once applied.
 */
export const serviceHealth: HealthCheck = {
  kind: "/Service",
  ready: "with an address",
  check(service) {
    if (service.spec?.type !== "LoadBalancer") return current("applied");
    const ingress = (service.status?.loadBalancer as { ingress?: Array<{ ip?: string; hostname?: string }> } | undefined)?.ingress ?? [];
    const first = ingress[0];
    if (first) return current(`load balancer at ${first.ip ?? first.hostname ?? "an address"}`);
    return inProgress("waiting for a load balancer address");
  },
};
