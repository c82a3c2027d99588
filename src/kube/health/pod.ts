import { condition, conditionText, current, failed, inProgress } from "./object-status.js";
import type { Health, HealthCheck, LiveResource } from "./types.js";

/** How a container ended. */
interface Terminated {
  reason?: string;
  message?: string;
  exitCode?: number;
  finishedAt?: string;
}

/** One container's status, as kubelet reports it. */
interface ContainerStatus {
  name?: string;
  state?: { waiting?: { reason?: string; message?: string }; terminated?: Terminated };
  lastState?: { terminated?: Terminated };
}

/**
 * Waiting reasons no retry fixes: the container ran and crashed, and kubelet is backing off before
 * starting it again (`CrashLoopBackOff`), or the image cannot be named or may not be pulled.
 */
const FAIL_AT_ONCE = new Set(["CrashLoopBackOff", "InvalidImageName", "ErrImageNeverPull"]);

/**
 * How long a container may wait on an error kubelet retries (`ErrImagePull`, `ImagePullBackOff`,
 * `CreateContainerConfigError`...) before the pod fails: such errors often clear on their own (an
 * image CI pushes a minute after the merge, a Secret an operator is about to write). Kubelet retries
 * a pull after 10 s, 20 s and 40 s, so 90 s is past three retries.
 */
const RETRY_GRACE_MS = 90_000;

/** Restart policies of pods that run to completion: current only once they succeed. */
const RUN_TO_COMPLETION = new Set(["Never", "OnFailure"]);

/**
 * A Pod is current once it is ready or, for a pod that runs to completion (`restartPolicy: Never`
 * or `OnFailure`), once it has succeeded. It fails at once when its phase is `Failed`, a container
 * exited with an error (`Error`, `OOMKilled`) or crash-loops (`CrashLoopBackOff`), or its image
 * name is invalid, with the container's reason and message, as gitops-engine calls such a pod
 * Degraded; it fails when a container has waited on a retried error (image pulls, missing config)
 * for longer than {@link RETRY_GRACE_MS}. An unscheduled pod stays in progress: the timeout decides.
 */
export const podHealth: HealthCheck = {
  kind: "/Pod",
  ready: "ready",
  check(pod, now) {
    const phase = pod.status?.phase;
    const statuses = containerStatuses(pod);
    if (phase === "Succeeded") return current("completed");
    if (phase === "Failed") return podFailed(pod, statuses);
    // Containers stopped on deletion exit non-zero; that is not a crash.
    if (pod.metadata?.deletionTimestamp !== undefined) return inProgress("being deleted");
    for (const status of statuses) {
      const broken = containerFailure(pod, status, now);
      if (broken) return broken;
    }
    const policy = typeof pod.spec?.restartPolicy === "string" ? pod.spec.restartPolicy : "Always";
    const ready = condition(pod, "Ready");
    if (phase === "Running" && ready?.status === "True" && !RUN_TO_COMPLETION.has(policy)) return current("ready");
    const scheduled = condition(pod, "PodScheduled");
    if (scheduled?.status === "False")
      return inProgress(`not scheduled: ${conditionText(scheduled)}`, scheduled.reason);
    const waiting = statuses.find((s) => s.state?.waiting?.reason !== undefined);
    if (waiting?.state?.waiting) {
      const { reason, message } = waiting.state.waiting;
      return inProgress(
        `container ${waiting.name ?? "?"} waiting: ${[reason, message].filter(Boolean).join(": ")}`,
        reason,
      );
    }
    if (phase === "Running" && RUN_TO_COMPLETION.has(policy))
      return inProgress(`running; restartPolicy ${policy}: current once it succeeds`);
    return inProgress(`phase ${typeof phase === "string" ? phase : "Pending"}, not ready`);
  },
};

function containerStatuses(pod: LiveResource): ContainerStatus[] {
  return [pod.status?.initContainerStatuses, pod.status?.containerStatuses].flatMap((list) =>
    Array.isArray(list) ? (list as ContainerStatus[]) : [],
  );
}

/** A container that exited with an error, crash-loops, or has waited on an error for too long. */
function containerFailure(pod: LiveResource, status: ContainerStatus, now: number): Health | undefined {
  const name = status.name ?? "?";
  const terminated = status.state?.terminated;
  if (terminated && terminated.exitCode !== undefined && terminated.exitCode !== 0)
    return failed(`container ${name} ${exitText(terminated)}`, terminated.reason ?? "Error");
  const waiting = status.state?.waiting;
  const reason = waiting?.reason;
  if (reason === undefined || !erroring(reason)) return undefined;
  const text = `container ${name}: ${waiting?.message || reason}`;
  const last = status.lastState?.terminated;
  if (FAIL_AT_ONCE.has(reason)) return failed(last ? `${text}; it last ${exitText(last, true)}` : text, reason);
  const since = waitingSince(pod, status);
  if (since !== undefined && now - since > RETRY_GRACE_MS)
    return failed(`${text} (failing for ${Math.round((now - since) / 1000)}s)`, reason);
  return undefined;
}

/** An error kubelet reports on a waiting container, as gitops-engine tells them: `Err…`, `…Error`, `…BackOff`. */
function erroring(reason: string): boolean {
  return FAIL_AT_ONCE.has(reason) || reason.startsWith("Err") || reason.endsWith("Error") || reason.endsWith("BackOff");
}

/** `exited with code 1: <its termination message>`, with kubelet's reason (`(OOMKilled)`) when asked. */
function exitText(terminated: Terminated, withReason = false): string {
  const reason = withReason && terminated.reason ? ` (${terminated.reason})` : "";
  const message = terminated.message?.trim();
  return `exited with code ${terminated.exitCode ?? "?"}${reason}${message ? `: ${message}` : ""}`;
}

/** Since when a container has waited: since its last run ended, or since kubelet took the pod. */
function waitingSince(pod: LiveResource, status: ContainerStatus): number | undefined {
  const times = [status.lastState?.terminated?.finishedAt, pod.status?.startTime]
    .map((t) => (typeof t === "string" ? Date.parse(t) : Number.NaN))
    .filter((t) => !Number.isNaN(t));
  return times.length > 0 ? Math.max(...times) : undefined;
}

/** A failed pod, with the pod's reason (`Evicted`) or, when it gives none, its failed container's. */
function podFailed(pod: LiveResource, statuses: ContainerStatus[]): Health {
  const message = typeof pod.status?.message === "string" ? pod.status.message : undefined;
  const reason = typeof pod.status?.reason === "string" ? pod.status.reason : undefined;
  const container = statuses.find((s) => (s.state?.terminated?.exitCode ?? 0) !== 0);
  const terminated = container?.state?.terminated;
  if (message === undefined && container && terminated)
    return failed(`container ${container.name ?? "?"} ${exitText(terminated)}`, reason ?? terminated.reason ?? "Error");
  return failed(message ?? "the pod failed", reason ?? "Failed");
}
