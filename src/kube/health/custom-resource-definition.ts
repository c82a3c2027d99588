import { condition, conditionText, current, failed, inProgress } from "./object-status.js";
import type { HealthCheck } from "./types.js";

/**
 * A CustomResourceDefinition is current once `Established` (its kinds are served) and fails when
 * its names are not accepted (they clash with another definition's).
 */
export const customResourceDefinitionHealth: HealthCheck = {
  kind: "apiextensions.k8s.io/CustomResourceDefinition",
  ready: "established",
  check(crd) {
    const names = condition(crd, "NamesAccepted");
    if (names?.status === "False")
      return failed(names.message ?? conditionText(names), names.reason ?? "NamesNotAccepted");
    const established = condition(crd, "Established");
    if (established?.status === "True") return current("established");
    return inProgress(established ? `not established: ${conditionText(established)}` : "not established yet");
  },
};
