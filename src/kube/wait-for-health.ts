import { healthCheckFor, healthOf, isStatusless, type Health } from "./health/index.js";
import type { KubeClient } from "./kube-client.js";
import { readLiveObjects } from "./live-state.js";
import { describeRef, refKey, type ObjectRef } from "./object-ref.js";
import { recentWarnings } from "./warning-events.js";
import { maskText } from "../sops/secret-values.js";

/** Options for {@link waitForHealth}. */
export interface WaitForHealthOptions {
  /** How long to wait before calling the objects still in progress a failure. */
  timeoutMs: number;
  /** Ends the wait early (a newer release wants the environment): the wait resolves `cancelled`. */
  signal?: AbortSignal;
  /** Called after every poll that found objects still in progress, with e.g. `waiting: 2/3 Deployments available`. */
  onProgress?: (description: string) => void;
  /**
   * Forms of SOPS-decrypted values the objects hold (`DesiredObject.secrets`): masked in every message
   * of the outcome, since a container's state or an event may quote an argument or a command.
   */
  secrets?: readonly string[];
  /** First pause between polls; it doubles up to {@link MAX_POLL_MS}. */
  pollMs?: number;
}

/** How a wait for health ended. */
export type HealthOutcome =
  | {
      kind: "healthy";
      /** Objects held on purpose (a paused Deployment, a suspended Job): not waited for, but worth saying. */
      suspended: JudgedObject[];
    }
  | {
      kind: "failed";
      /** The object named first: the first that failed, or the first still in progress at the timeout. */
      ref: ObjectRef;
      /** One line naming the object and the reason: `Deployment shop/web: ProgressDeadlineExceeded: …`. */
      message: string;
      /** Further lines: other objects not current, recent Warning events. */
      details: string[];
      /** True when the objects were still in progress at the timeout, false when one failed. */
      timedOut: boolean;
    }
  | { kind: "cancelled" };

/** Longest pause between polls. */
const MAX_POLL_MS = 2_000;

/** One object and its health at one poll. */
export interface JudgedObject {
  /** The object. */
  ref: ObjectRef;
  /** Its verdict at that poll. */
  health: Health;
}

/** What one poll's verdicts decide. */
export type PollVerdict =
  | { kind: "healthy"; suspended: JudgedObject[] }
  | { kind: "failed"; failed: JudgedObject[] }
  | { kind: "waiting"; pending: JudgedObject[] };

/**
 * What one poll's verdicts decide: failed as soon as one object failed; healthy once none is in
 * progress, suspended objects included, since they wait for a person rather than for time (a paused
 * Deployment stays paused however long Ferry waits, and pausing is not a fault: Argo CD too calls
 * such an application Suspended, not Degraded); otherwise still waiting for those in progress.
 */
export function settle(judged: JudgedObject[]): PollVerdict {
  const failed = judged.filter((j) => j.health.status === "failed");
  if (failed.length > 0) return { kind: "failed", failed };
  const pending = judged.filter((j) => j.health.status === "in-progress");
  if (pending.length > 0) return { kind: "waiting", pending };
  return { kind: "healthy", suspended: judged.filter((j) => j.health.status === "suspended") };
}

/**
 * Polls the live state of `refs` until no object is in progress (healthy, naming the suspended
 * ones), one failed, the timeout passed (failed, naming what was still in progress), or `signal`
 * fired (cancelled). Kinds without a status are current once applied and never read; the rest are
 * read with one LIST per kind and namespace per poll. Polls start fast (a Deployment on a quick
 * cluster is up in a second or two) and slow down to one every two seconds.
 */
export async function waitForHealth(
  client: KubeClient,
  refs: ObjectRef[],
  options: WaitForHealthOptions,
): Promise<HealthOutcome> {
  const outcome = await waitUntilSettled(client, refs, options);
  const secrets = options.secrets ?? [];
  if (secrets.length === 0) return outcome;
  const hide = (text: string) => maskText(text, secrets);
  if (outcome.kind === "failed")
    return { ...outcome, message: hide(outcome.message), details: outcome.details.map(hide) };
  if (outcome.kind === "healthy")
    return {
      ...outcome,
      suspended: outcome.suspended.map((s) => ({ ...s, health: { ...s.health, message: hide(s.health.message) } })),
    };
  return outcome;
}

/** {@link waitForHealth}'s polling, its messages as the cluster words them. */
async function waitUntilSettled(
  client: KubeClient,
  refs: ObjectRef[],
  options: WaitForHealthOptions,
): Promise<HealthOutcome> {
  const watched = refs.filter((ref) => !isStatusless(ref));
  if (watched.length === 0) return { kind: "healthy", suspended: [] };
  const deadline = Date.now() + options.timeoutMs;
  let pause = options.pollMs ?? 250;
  for (;;) {
    if (options.signal?.aborted) return { kind: "cancelled" };
    const live = await readLiveObjects(client, watched);
    if (options.signal?.aborted) return { kind: "cancelled" };
    const judged = watched.map((ref) => ({ ref, health: healthOf(ref, live.get(refKey(ref))) }));
    const verdict = settle(judged);
    if (verdict.kind === "failed") return failure(client, verdict.failed, false);
    if (verdict.kind === "healthy") return verdict;
    options.onProgress?.(describeProgress(judged));
    const left = deadline - Date.now();
    if (left <= 0) return failure(client, verdict.pending, true, options.timeoutMs);
    await sleep(Math.min(pause, left), options.signal);
    pause = Math.min(pause * 2, MAX_POLL_MS);
  }
}

/**
 * `waiting: 2/3 Deployments available (1 suspended), 0/1 Jobs complete`: per kind with objects in
 * progress, how many are up, and how many of the rest are suspended (not waited for).
 */
export function describeProgress(judged: JudgedObject[]): string {
  const byKind = new Map<string, { kind: string; ready: string; up: number; held: number; total: number }>();
  for (const { ref, health } of judged) {
    const key = refKey({ ...ref, namespace: undefined, name: "" });
    const entry = byKind.get(key) ?? { kind: ref.kind, ready: healthCheckFor(ref).ready, up: 0, held: 0, total: 0 };
    entry.total++;
    if (health.status === "current") entry.up++;
    if (health.status === "suspended") entry.held++;
    byKind.set(key, entry);
  }
  const parts = [...byKind.values()]
    .filter((e) => e.up + e.held < e.total)
    .map(
      (e) => `${e.up}/${e.total} ${plural(e.kind, e.total)} ${e.ready}${e.held > 0 ? ` (${e.held} suspended)` : ""}`,
    );
  return `waiting: ${parts.join(", ")}`;
}

/** `Deployment` → `Deployments`, `Ingress` → `Ingresses`, `NetworkPolicy` → `NetworkPolicies`; one keeps the singular. */
function plural(kind: string, count: number): string {
  if (count === 1) return kind;
  if (/(s|x|ch|sh)$/.test(kind)) return `${kind}es`;
  if (/[^aeiou]y$/.test(kind)) return `${kind.slice(0, -1)}ies`;
  return `${kind}s`;
}

async function failure(
  client: KubeClient,
  objects: JudgedObject[],
  timedOut: boolean,
  timeoutMs = 0,
): Promise<HealthOutcome> {
  const [first, ...others] = objects as [JudgedObject, ...JudgedObject[]];
  const events = await recentWarnings(client, first.ref);
  const { health } = first;
  let what =
    health.reason !== undefined && !health.message.startsWith(health.reason)
      ? `${health.reason}: ${health.message}`
      : health.message;
  if (timedOut) what = `not ready within ${formatDuration(timeoutMs)}: ${what}`;
  // A count ("0/1 replicas available") says little; the newest warning (FailedScheduling…) says why.
  const hint = health.status === "in-progress" && events[0] ? `; ${events[0].reason}: ${events[0].message}` : "";
  const more = others.length > 0 ? ` (and ${others.length} more)` : "";
  return {
    kind: "failed",
    ref: first.ref,
    message: `${describeRef(first.ref)}: ${what}${hint}${more}`.replace(/\s*\n\s*/g, " "),
    details: [
      ...others.map((o) => `${describeRef(o.ref)}: ${o.health.message}`),
      ...events.map((e) => `Warning ${e.reason} on ${e.object}: ${e.message}`),
    ],
    timedOut,
  };
}

/** `90s` → `1m30s`. */
function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return m > 0 ? `${m}m${s > 0 ? `${s}s` : ""}` : `${s}s`;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}
