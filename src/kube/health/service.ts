import { current, inProgress, loadBalancerAddress } from "./object-status.js";
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
    const address = loadBalancerAddress(service);
    if (address !== undefined) return current(`load balancer at ${address}`);
    return inProgress("waiting for a load balancer address");
  },
};
