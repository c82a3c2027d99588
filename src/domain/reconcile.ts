/** How one reconcile ended, for the logs and metrics (the jobs know nothing of metrics). */
export interface ReconcileOutcome {
  environment: string;
  cluster: string;
  /**
   * `checked`: drift was looked at (or is turned off); `busy`: a release holds the cluster, so the
   * next run looks; `unreleased`: nothing was successfully released there yet to compare with;
   * `unreachable`: the cluster's agent was not seen for `agentTimeout`, so nothing is known of it.
   */
  state: "checked" | "busy" | "unreleased" | "unreachable";
  /** The branch head a catch-up queued a deploy of. */
  caughtUp?: string;
  /** Objects drifted (after a heal: still drifted); undefined when drift was not looked at. */
  drifted?: number;
  /** Objects a heal restored, by description. */
  healed?: string[];
}
