import { condition, conditionText, current, failed, inProgress } from "./object-status.js";
import type { HealthCheck } from "./types.js";

interface ContainerStatus {
  name?: string;
  state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; exitCode?: number } };
}

/**
 * A Pod is current once it is ready, or has succeeded (a run-to-completion pod); it fails once its
 * phase is `Failed`. A pod that cannot be scheduled or whose containers wait (image pulls, crash
 * loops) stays in progress with that reason, because many such states clear on their own; the
 * wait's timeout decides.
 */
export const podHealth: HealthCheck = {
  kind: "/Pod",
  ready: "ready",
  check(pod) {
    const phase = pod.status?.phase;
    if (phase === "Succeeded") return current("completed");
    if (phase === "Failed") {
      const reason = typeof pod.status?.reason === "string" ? pod.status.reason : "Failed";
      return failed(typeof pod.status?.message === "string" ? pod.status.message : "the pod failed", reason);
    }
    const ready = condition(pod, "Ready");
    if (phase === "Running" && ready?.status === "True") return current("ready");
    const scheduled = condition(pod, "PodScheduled");
    if (scheduled?.status === "False") return inProgress(`not scheduled: ${conditionText(scheduled)}`, scheduled.reason);
    const statuses = [pod.status?.initContainerStatuses, pod.status?.containerStatuses].flatMap((list) => (Array.isArray(list) ? (list as ContainerStatus[]) : []));
    const waiting = statuses.find((s) => s.state?.waiting?.reason !== undefined);
    if (waiting?.state?.waiting) {
      const { reason, message } = waiting.state.waiting;
      return inProgress(`container ${waiting.name ?? "?"} waiting: ${[reason, message].filter(Boolean).join(": ")}`, reason);
    }
    return inProgress(`phase ${typeof phase === "string" ? phase : "Pending"}, not ready`);
  },
};
