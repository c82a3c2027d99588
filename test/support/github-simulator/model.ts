import type { GitRepo } from "../git-repo.js";

/** A user's permission on a repository, as the collaborator-permission endpoint reports it. */
export type Permission = "admin" | "write" | "read" | "none";

/** Commit status states GitHub accepts. */
export const statusStates = ["error", "failure", "pending", "success"] as const;

/** One commit status state. */
export type StatusState = (typeof statusStates)[number];

/** Repository permissions of an app installation, by name (`issues`, `statuses`, …), as GitHub reports them. */
export type InstallationPermissions = Record<string, "read" | "write">;

/** What an installation is granted unless a test says otherwise: what `app.yml` asks for. */
export const defaultInstallationPermissions: Readonly<InstallationPermissions> = {
  contents: "write",
  metadata: "read",
  pull_requests: "write",
  issues: "write",
  statuses: "write",
  deployments: "write",
  checks: "write",
};

/** Check run statuses GitHub accepts from an app. */
export const checkRunStatuses = ["queued", "in_progress", "completed"] as const;

/** Check run conclusions GitHub accepts from an app (`stale` only GitHub sets). */
export const checkRunConclusions = [
  "action_required",
  "cancelled",
  "failure",
  "neutral",
  "success",
  "skipped",
  "timed_out",
] as const;

/** One annotation of a check run, as received. */
export interface CheckAnnotationRecord {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: "notice" | "warning" | "failure";
  message: string;
  title: string | null;
}

/** What a check run showed after one create or update, for assertions on its sequence. */
export interface CheckRunState {
  status: (typeof checkRunStatuses)[number];
  conclusion: (typeof checkRunConclusions)[number] | null;
  /** `output.title` ("" before any output). */
  title: string;
}

/** A check run as created and updated, for assertions. */
export interface CheckRunRecord {
  id: number;
  name: string;
  head_sha: string;
  status: (typeof checkRunStatuses)[number];
  conclusion: (typeof checkRunConclusions)[number] | null;
  external_id: string;
  details_url: string | null;
  started_at: string;
  completed_at: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
  /** Every annotation, in the order received (updates append). */
  annotations: CheckAnnotationRecord[];
  /** The slug of the app that made it. */
  app: string;
  /** The check suite it belongs to (one per commit and app). */
  suiteId: number;
  /** Its states after each create and update, oldest first. */
  history: CheckRunState[];
  /** How many requests carried annotations (at most 50 each). */
  annotationRequests: number;
}

/** Deployment status states GitHub accepts. */
export const deploymentStates = [
  "error",
  "failure",
  "inactive",
  "in_progress",
  "queued",
  "pending",
  "success",
] as const;

/** One deployment status state. */
export type DeploymentStatusState = (typeof deploymentStates)[number];

/** A deployment status as received (or added by `auto_inactive`), for assertions. */
export interface DeploymentStatusRecord {
  /** Status id. */
  id: number;
  /** Its state. */
  state: DeploymentStatusState;
  /** Description ("" when omitted). */
  description: string;
  /** The environment (the deployment's unless the status changed it). */
  environment: string;
  /** `log_url` ("" when omitted); `target_url` is the same. */
  log_url: string;
  /** `environment_url` ("" when omitted). */
  environment_url: string;
  /** Login of the creator. */
  creator: string;
  /** Creation time (ISO 8601). */
  created_at: string;
}

/** A deployment as created, with its statuses in the order received, for assertions. */
export interface DeploymentRecord {
  /** Deployment id. */
  id: number;
  /** The commit the ref resolved to. */
  sha: string;
  /** The ref as given (a branch, tag or sha). */
  ref: string;
  /** Task ("deploy" by default). */
  task: string;
  /** Environment ("production" by default). */
  environment: string;
  /** Payload as given (an object, or JSON text). */
  payload: unknown;
  /** Description, or null. */
  description: string | null;
  /** Whether the environment is transient. */
  transient_environment: boolean;
  /** Whether the environment is production. */
  production_environment: boolean;
  /** Login of the creator. */
  creator: string;
  /** Creation time (ISO 8601). */
  created_at: string;
  /** Its statuses, oldest first. */
  statuses: DeploymentStatusRecord[];
}

/** Reactions GitHub accepts on an issue comment. */
export const reactionContents = ["+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"] as const;

/** A pull request registered with the simulator. */
export interface PullRequestInput {
  /** Pull request number (also its issue number, for comments). */
  number: number;
  /** Sha of the head commit. */
  headSha: string;
  /** Head branch name. */
  headRef: string;
  /**
   * "owner/name" of the repository the head lives in: another one for a fork, null when that fork
   * was deleted; defaults to the pull request's own repository.
   */
  headRepo?: string | null;
  /** Base branch name. */
  baseRef: string;
  /** Merge commit sha, once merged. */
  mergeCommitSha?: string;
  /** Whether the pull request was merged (implies closed). */
  merged?: boolean;
  /** Login of the author. */
  user: string;
  /** Title; defaults to "Pull request #<number>". */
  title?: string;
  /** State; defaults to "closed" when merged, else "open". */
  state?: "open" | "closed";
  /** Description; defaults to none. */
  body?: string;
  /** Label names; defaults to none. */
  labels?: string[];
}

/** What `updatePullRequest` may change: anything but the number. */
export type PullRequestPatch = Partial<Omit<PullRequestInput, "number">>;

/** A comment a user (not the app) writes, for `addComment`. */
export interface UserComment {
  /** Login of the author; a login ending in `[bot]` is a bot. */
  user: string;
  /** Comment body. */
  body: string;
}

/** An issue a user (not the app) opens, for `addIssue`. */
export interface UserIssue {
  /** Login of the author; a login ending in `[bot]` is a bot. */
  user: string;
  /** Title. */
  title: string;
  /** Body; defaults to none. */
  body?: string;
  /** Label names (created in the repository when missing). */
  labels?: string[];
  /** State; defaults to "open". */
  state?: "open" | "closed";
}

/** An issue's current state, for assertions. */
export interface IssueRecord {
  /** Issue number (shared with pull requests, as on GitHub). */
  number: number;
  /** Current title. */
  title: string;
  /** Current body, or null when it has none. */
  body: string | null;
  /** Login of the author. */
  user: string;
  /** Open or closed. */
  state: "open" | "closed";
  /** Why it was closed or reopened (`completed`, `not_planned`, `reopened`), or null. */
  stateReason: string | null;
  /** Label names, in the order added. */
  labels: string[];
  /** How many PATCHes changed its title or body. */
  edits: number;
  /** Creation time (ISO 8601). */
  created_at: string;
  /** Last update time (ISO 8601). */
  updated_at: string;
  /** When it was closed, or null while open. */
  closed_at: string | null;
}

/** A repository label. */
export interface LabelRecord {
  /** Label id. */
  id: number;
  /** Name, as first written. */
  name: string;
  /** Hex color without `#`. */
  color: string;
}

/** A commit status as received, for assertions. */
export interface StatusRecord {
  /** Status id. */
  id: number;
  /** Full commit sha the status is on. */
  sha: string;
  /** Status state. */
  state: StatusState;
  /** Context label (GitHub's default is "default"). */
  context: string;
  /** Description, or null when omitted. */
  description: string | null;
  /** Target URL, or null when omitted. */
  target_url: string | null;
  /** Creation time (ISO 8601). */
  created_at: string;
  /** Login of the creator (the app's bot user). */
  creator: string;
}

/** An issue comment's current state, for assertions. */
export interface CommentRecord {
  /** Comment id. */
  id: number;
  /** Issue or pull request number it is on. */
  issueNumber: number;
  /** Current body. */
  body: string;
  /** Login of the author. */
  user: string;
  /** How many times the body was edited through PATCH. */
  edits: number;
  /** Reaction contents added to the comment, in order. */
  reactions: string[];
  /** Creation time (ISO 8601). */
  created_at: string;
  /** Last update time (ISO 8601). */
  updated_at: string;
}

export type { FaultMatcher, FaultResponse, RequestRecord } from "../simulator-faults.js";

/** A repository the simulator serves. */
export interface SimRepo {
  /** Numeric repository id. */
  id: number;
  /** Owner login. */
  owner: string;
  /** Repository name. */
  name: string;
  /** "owner/name". */
  fullName: string;
  /** The git repository whose commits are served. */
  git: GitRepo;
  /** Installation of the app that can access the repository. */
  installationId: number;
  /** Collaborator permissions by login (lower-cased). */
  permissions: Map<string, Permission>;
  /** Registered pull requests by number. */
  pulls: Map<number, PullRequestInput>;
  /** Issue comments (on issues and pull requests) in creation order. */
  comments: CommentRecord[];
  /** Issues (not pull requests) by number. */
  issues: Map<number, IssueRecord>;
  /** Labels by lower-cased name (GitHub matches label names case-insensitively). */
  labels: Map<string, LabelRecord>;
  /** Whether the repository has Issues turned on (off: creating one answers 410). */
  issuesEnabled: boolean;
  /** Commit statuses in the order received. */
  statuses: StatusRecord[];
  /** Deployments in creation order. */
  deployments: DeploymentRecord[];
  /** Check runs in creation order. */
  checkRuns: CheckRunRecord[];
  /** Check suite ids by head sha (one app: Ferry's). */
  checkSuites: Map<string, number>;
  /** Archives served for a commit in place of `git archive` (hand-made hostile tarballs), by sha. */
  archives: Map<string, Buffer>;
  /** Branches whose rules refuse the app's merges, with GitHub's refusal message. */
  protectedBranches: Map<string, string>;
}

/** Key under which a repository is stored: GitHub matches owner and name case-insensitively. */
export function repoKey(fullName: string): string {
  return fullName.toLowerCase();
}
