/** Deployment statuses as GitLab's Deployment state machine names them. */
export type DeploymentStatus = "created" | "running" | "success" | "failed" | "canceled" | "blocked" | "skipped";

/** Statuses the deployments API accepts in `POST` and `PUT /projects/:id/deployments`. */
export const settableDeploymentStatuses = ["running", "success", "failed", "canceled"] as const;

/** One status the deployments API accepts. */
export type SettableDeploymentStatus = (typeof settableDeploymentStatuses)[number];

/** Environment tiers GitLab accepts. */
export const environmentTiers = ["production", "staging", "testing", "development", "other"] as const;

/** An environment of a project, for assertions. */
export interface EnvironmentRecord {
  /** Environment id. */
  id: number;
  /** Name, unique in the project. */
  name: string;
  /** `external_url`, or null. */
  externalUrl: string | null;
  /** Tier; guessed from the name when not given, as GitLab does. */
  tier: (typeof environmentTiers)[number];
  /** Creation time (ISO 8601). */
  createdAt: string;
  /** How many PUTs changed it. */
  edits: number;
}

/** A deployment of a project, with every status it passed through, for assertions. */
export interface DeploymentRecord {
  /** Deployment id. */
  id: number;
  /** Number within the project. */
  iid: number;
  /** The environment's name. */
  environment: string;
  /** Commit sha. */
  sha: string;
  /** Branch or tag name. */
  ref: string;
  /** Whether `ref` is a tag. */
  tag: boolean;
  /** Current status. */
  status: DeploymentStatus;
  /** Every status it was in, oldest first (starting with `created`). */
  history: DeploymentStatus[];
  /** Username of who created it. */
  user: string;
  /** Creation time (ISO 8601). */
  createdAt: string;
  /** Last change (ISO 8601). */
  updatedAt: string;
  /** When it finished, or null. */
  finishedAt: string | null;
}

/** A deployment status change refused by GitLab's state machine, recorded for assertions. */
export interface DeploymentTransitionError {
  /** Project path. */
  project: string;
  /** Deployment id. */
  deployment: number;
  /** The status it was in. */
  from: DeploymentStatus;
  /** The status asked for. */
  requested: SettableDeploymentStatus;
  /** The event GitLab would have fired (`run`, `succeed`, `drop`, `cancel`). */
  event: string;
}

/** The event GitLab's Deployment model fires for a status (Deployment#update_status!). */
const events: Record<SettableDeploymentStatus, string> = {
  running: "run",
  success: "succeed",
  failed: "drop",
  canceled: "cancel",
};

/**
 * Fires the event for `requested` on a deployment in `from`, as GitLab's Deployment state machine
 * does: `run` from created or blocked only; `succeed`, `drop`, `cancel` from any status but their own.
 */
export function deploymentTransition(
  from: DeploymentStatus,
  requested: SettableDeploymentStatus,
): { ok: true } | { ok: false; event: string } {
  const event = events[requested];
  const ok = requested === "running" ? from === "created" || from === "blocked" : from !== requested;
  return ok ? { ok: true } : { ok: false, event };
}

/** The tier GitLab guesses from an environment's name when none is given (Environment#guess_tier). */
export function guessTier(name: string): EnvironmentRecord["tier"] {
  if (/(dev|review|trunk)/i.test(name)) return "development";
  if (/(test|tst|int|ac(ce|)pt|qa|qc|control|quality)/i.test(name)) return "testing";
  if (/(st(a|)g|mod(e|)l|pre|demo|non)/i.test(name)) return "staging";
  if (/(pr(o|)d|live)/i.test(name)) return "production";
  return "other";
}
