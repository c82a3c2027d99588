import type { ClusterProgress, Rollout } from "../domain/rollout.js";

/** A rollout with its clusters, as reports and pages show it. */
export interface RolloutView {
  rollout: Rollout;
  clusters: ClusterProgress[];
}

/** Placeholder: replaced by the fleet report words. */
export function fleetStatus(view: RolloutView): { state: "pending" | "running" | "success" | "failure"; description: string } {
  const released = view.clusters.filter((c) => c.state === "released" || c.state === "already-released").length;
  const final = ["succeeded", "superseded"].includes(view.rollout.state) ? "success" : ["failed", "aborted", "blocked"].includes(view.rollout.state) ? "failure" : "running";
  return { state: final, description: `${view.rollout.state}: ${released}/${view.clusters.length} clusters released` };
}
