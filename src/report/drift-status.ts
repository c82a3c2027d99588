import type { StatusState } from "../forge/types.js";
import { clip } from "./clip.js";
import type { DriftedObjectView } from "./drift-issue.js";

/** The commit status context of an environment's drift. */
export function driftContext(environment: string): string {
  return `ferry/drift/${environment}`;
}

/** GitHub's cap on a status description. */
const STATUS_LENGTH = 140;

/** One cluster's latest reconcile verdict, as kept for its environment's status. */
export interface ClusterVerdict {
  cluster: string;
  /** The commit the cluster last released: the status goes on it. */
  sha: string;
  /** Drifted objects (gone and taken over count; ignored ones do not); 0 when in sync or healed. */
  drifted: number;
  /** `summarizeDrift`'s line, while drifted. */
  summary?: string;
  /** The drifted objects, field by field, for the drift issue (at most a few dozen kept). */
  objects?: DriftedObjectView[];
  /** Objects a heal restored in this check. */
  healed?: number;
  /** Why the cluster could not be checked (its agent unreachable): never `in sync` while set. */
  unreachable?: string;
  /** Epoch ms of the check. */
  checkedAt: number;
  /** Epoch ms after which the verdict no longer counts (the cluster stopped being reconciled). */
  until: number;
}

/** `12:04 UTC`: when a check ran. */
function clock(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 16)} UTC`;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * The `ferry/drift/<env>` status over the latest verdict of each of the environment's clusters:
 * failure while any drifted (one cluster: the drift's own line, `2 objects drifted: Deployment shop/web
 * spec.replicas 3→5 by kubectl-edit`; a fleet: how many clusters drifted, then the first one's line),
 * else failure while a cluster could not be checked (`not checked: unreachable: the agent of cluster
 * edge-1 was not seen for 60s (agentTimeout)`), else success `in sync (checked 12:04 UTC)`, or `healed 2 objects (checked 12:04 UTC)` when this
 * check healed. `latest` is the verdict just reached; the time shown is its check's.
 */
export function driftStatus(
  verdicts: ClusterVerdict[],
  latest: ClusterVerdict,
): { state: StatusState; description: string } {
  const drifted = verdicts.filter((v) => v.drifted > 0).sort((a, b) => a.cluster.localeCompare(b.cluster));
  const checked = `(checked ${clock(latest.checkedAt)})`;
  const first = drifted[0];
  if (first) {
    const line = first.summary ?? `${plural(first.drifted, "object", "objects")} drifted`;
    if (verdicts.length === 1) return { state: "failure", description: clip(line, STATUS_LENGTH) };
    return {
      state: "failure",
      description: clip(
        `${drifted.length} of ${verdicts.length} clusters drifted; ${first.cluster}: ${line}`,
        STATUS_LENGTH,
      ),
    };
  }
  const away = verdicts.filter((v) => v.unreachable !== undefined).sort((a, b) => a.cluster.localeCompare(b.cluster));
  const gone = away[0];
  if (gone) {
    const line = `not checked: ${gone.unreachable ?? ""}`;
    if (verdicts.length === 1) return { state: "failure", description: clip(line, STATUS_LENGTH) };
    return {
      state: "failure",
      description: clip(`${away.length} of ${verdicts.length} clusters ${line}`, STATUS_LENGTH),
    };
  }
  const where = verdicts.length > 1 ? ` on ${plural(verdicts.length, "cluster", "clusters")}` : "";
  if (latest.healed !== undefined && latest.healed > 0) {
    const on = verdicts.length > 1 ? ` on ${latest.cluster}` : "";
    return {
      state: "success",
      description: clip(`healed ${plural(latest.healed, "object", "objects")}${on} ${checked}`, STATUS_LENGTH),
    };
  }
  return { state: "success", description: `in sync${where} ${checked}` };
}

/** One cluster's outcome of `/ferry heal`, as the answer on the change lists it. */
export interface HealAnswer {
  environment: string;
  cluster: string;
  /** Objects restored; undefined when the cluster could not be healed, with `reason`. */
  restored?: string[];
  reason?: string;
}

/** The answer to `/ferry heal`: per cluster, what was restored, or that it was in sync, or why nothing was done. */
export function healAnswer(user: string, answers: HealAnswer[]): string {
  const lines = answers.map((a) => {
    const where = `**${a.environment}** on ${a.cluster}`;
    if (a.restored === undefined) return `- ${where}: not healed: ${a.reason ?? "unknown"}`;
    if (a.restored.length === 0) return `- ${where}: in sync, nothing to heal`;
    const listed = a.restored
      .slice(0, 10)
      .map((r) => `\`${r}\``)
      .join(", ");
    return `- ${where}: restored ${plural(a.restored.length, "object", "objects")} (${listed}${a.restored.length > 10 ? ", …" : ""})`;
  });
  return [`@${user} healed drift, re-applying what the last release applied:`, "", ...lines].join("\n");
}
