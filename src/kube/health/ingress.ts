import { current, inProgress, loadBalancerAddress } from "./object-status.js";
import type { HealthCheck } from "./types.js";

/**
 * An Ingress is current once its ingress controller published the load balancer that serves it
 * (`status.loadBalancer.ingress`, an IP or hostname), as gitops-engine judges it and as a
 * LoadBalancer Service is judged. Until then it is in progress: without a controller for its class,
 * or with one that does not write status (ingress-nginx with `--update-status=false`), until the
 * timeout, whose failure names it.
 */
export const ingressHealth: HealthCheck = {
  kind: "networking.k8s.io/Ingress",
  ready: "with an address",
  check(ingress) {
    const address = loadBalancerAddress(ingress);
    if (address !== undefined) return current(`load balancer at ${address}`);
    return inProgress("waiting for a load balancer address");
  },
};
