import {
  condition,
  conditionText,
  current,
  failed,
  inProgress,
  predatesSpec,
  specNumber,
  staleGeneration,
  statusNumber,
  suspended,
} from "./object-status.js";
import type { HealthCheck } from "./types.js";

/**
 * A Deployment is current once its controller has observed the latest spec, every replica runs the
 * new template, no old replica is left and every replica is available. It fails when its
 * `Progressing` condition says `ProgressDeadlineExceeded` (the controller gave up after
 * `progressDeadlineSeconds`) after the latest change to its spec. A paused Deployment does not roll
 * out until someone resumes it: suspended, so it is not waited for (as gitops-engine calls it).
 */
export const deploymentHealth: HealthCheck = {
  kind: "apps/Deployment",
  ready: "available",
  check(deployment) {
    if (deployment.spec?.paused === true) return suspended("paused: not rolled out until resumed");
    const stale = staleGeneration(deployment);
    if (stale) return stale;
    const progressing = condition(deployment, "Progressing");
    // The controller keeps a timed-out condition until the next rollout makes progress, even at the
    // new generation: one set no later than the latest spec write speaks of the earlier rollout
    // (a rollback to a ReplicaSet that is still up passes through that state).
    if (progressing?.reason === "ProgressDeadlineExceeded" && !predatesSpec(progressing, deployment))
      return failed(progressing.message ?? "the rollout did not progress in time", "ProgressDeadlineExceeded");
    const want = specNumber(deployment, "replicas", 1);
    const updated = statusNumber(deployment, "updatedReplicas");
    const total = statusNumber(deployment, "replicas");
    const available = statusNumber(deployment, "availableReplicas");
    const replicaFailure = condition(deployment, "ReplicaFailure");
    const why = replicaFailure?.status === "True" ? ` (${conditionText(replicaFailure)})` : "";
    if (updated < want) return inProgress(`${updated}/${want} replicas updated${why}`);
    if (total > updated) return inProgress(`${total - updated} old replicas pending termination`);
    if (available < want) return inProgress(`${available}/${want} replicas available${why}`);
    return current(`${available}/${want} replicas available`);
  },
};
