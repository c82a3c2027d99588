import { current, failed, inProgress } from "./object-status.js";
import type { HealthCheck } from "./types.js";

/**
 * A PersistentVolumeClaim is current once bound to a volume and fails once `Lost` (its volume is
 * gone). A claim waiting for its first consumer stays in progress until a pod uses it.
 */
export const persistentVolumeClaimHealth: HealthCheck = {
  kind: "/PersistentVolumeClaim",
  ready: "bound",
  check(claim) {
    const phase = claim.status?.phase;
    if (phase === "Bound") return current("bound");
    if (phase === "Lost") return failed("the claim lost its volume", "ClaimLost");
    return inProgress(`phase ${typeof phase === "string" ? phase : "Pending"}, not bound`);
  },
};
