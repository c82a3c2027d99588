import type { RolloutView } from "./fleet-status.js";

/** Placeholder: replaced by the fleet report words. */
export function fleetSection(view: RolloutView, pageUrl: string, maxLength: number): string {
  return `**${view.rollout.environment}**: ${view.rollout.state} ([rollout](${pageUrl}))`.slice(0, maxLength);
}
