import type { GitRepo } from "../git-repo.js";
import type { FaultMatcher, FaultResponse, RequestRecord } from "../simulator-faults.js";

/** A webhook ready to deliver: the forge's event name and its payload. */
export interface Delivery {
  event: string;
  payload: object;
}

/** A commit status as the tests compare them across forges (GitLab's `failed` reads `failure`). */
export interface SeenStatus {
  context: string;
  state: "pending" | "running" | "success" | "failure";
  description: string;
  targetUrl?: string;
}

/** A deployment record (GitHub deployment, GitLab deployment) as the tests see it across forges. */
export interface SeenDeployment {
  /** The forge's id. */
  id: number;
  /** The environment's name. */
  environment: string;
  /** The commit deployed. */
  sha: string;
  /** The ref given (GitHub: the sha; GitLab: the branch). */
  ref: string;
  /** Who made it. */
  creator: string;
  /** Every state it went through, in the forge's words (GitHub's statuses; GitLab's statuses after `created`). */
  states: string[];
  /** Each state's description (GitHub); GitLab deployments have none, so it is empty there. */
  descriptions: string[];
  /** Each state's log URL (GitHub); empty on GitLab. */
  logUrls: string[];
  /** The environment's URL: GitHub's latest `environment_url`, GitLab's environment `external_url`. */
  environmentUrl?: string;
  /** GitHub's `production_environment`; on GitLab, whether the environment's tier is production. */
  production: boolean;
  /** GitHub's `transient_environment` (false on GitLab). */
  transient: boolean;
  /** GitHub's payload (undefined on GitLab). */
  payload?: unknown;
}

/** A comment (GitHub) or note (GitLab) on a change, as the tests see it. */
export interface SeenComment {
  id: number;
  body: string;
  /** How many times Ferry edited it. */
  edits: number;
  /** Reactions (GitHub) or award emoji (GitLab) on it. */
  reactions: string[];
}

/** An issue as the tests see it across forges (GitLab's `opened` reads `open`). */
export interface SeenIssue {
  /** Number (GitLab: iid). */
  number: number;
  title: string;
  /** Body (GitLab: description); empty when it has none. */
  body: string;
  state: "open" | "closed";
  /** Login or username of who opened it. */
  author: string;
  labels: string[];
  /** How many times its title or body was edited. */
  edits: number;
  /** Its comments (GitLab: notes other than system notes), oldest first. */
  comments: string[];
}

/** What a merged change or an open change is, across forges. */
export interface ChangeInfo {
  number: number;
  branch: string;
  headSha: string;
  mergeSha?: string;
  fromFork?: boolean;
}

/** A change as the forge holds it now, whoever opened it (Ferry's reverts included). */
export interface HeldChange extends ChangeInfo {
  /** Whether it was merged. */
  merged: boolean;
  title: string;
  /** Its description; empty when it has none. */
  body: string;
  /** Who opened it. */
  author: string;
}

/**
 * A forge played by a local simulator, with the verbs the end-to-end suite needs; the suite runs
 * the same scenarios against each forge through this interface.
 */
export interface ForgeDouble {
  /** `github` or `gitlab`. */
  readonly kind: "github" | "gitlab";
  /** Environment that points Ferry at the simulator with this forge's credentials. */
  ferryEnv(): NodeJS.ProcessEnv;
  /** Registers a repository backed by a real git repository. */
  addRepo(fullName: string, git: GitRepo): void;
  /** Registers an open change. */
  openChange(fullName: string, change: ChangeInfo): void;
  /** Moves an open change's head, or marks it merged. */
  updateChange(fullName: string, change: ChangeInfo & { merged?: boolean }): void;
  /** The webhook for a change opened (or synchronized, when `pushed`). */
  changeEvent(fullName: string, change: ChangeInfo, action: "opened" | "pushed"): Delivery;
  /** The webhook for a merged change. */
  mergedEvent(fullName: string, change: ChangeInfo): Delivery;
  /** The webhook for a push to a branch. */
  pushEvent(fullName: string, branch: string, before: string, after: string): Delivery;
  /** Adds a user's comment to a change and returns the webhook announcing it. */
  commentEvent(fullName: string, change: number, user: string, body: string): Delivery;
  /** Signs (or tokens) and posts a webhook to Ferry. */
  deliver(ferryUrl: string, delivery: Delivery, deliveryId: string): Promise<{ status: number; body: string }>;
  /** Statuses a commit received, in order. */
  statuses(fullName: string, sha?: string): SeenStatus[];
  /**
   * Every state a plan result on a commit went through, in order, as statuses: GitHub's check runs
   * `ferry/plan*` (each create and update; `in_progress` reads pending, `success` and `neutral`
   * success, any other conclusion failure; the title is the description, `details_url` the link),
   * GitLab's `ferry/plan*` commit statuses.
   */
  planResults(fullName: string, sha?: string): SeenStatus[];
  /** Comments on a change, in creation order. */
  comments(fullName: string, change: number): SeenComment[];
  /** Deployment records of the repository (optionally of one environment), in creation order. */
  deployments(fullName: string, environment?: string): SeenDeployment[];
  /** Takes away what Ferry needs to write deployments: GitHub's `deployments` permission, GitLab's Developer role. */
  denyDeployments(fullName: string): void;
  /** The repository's issues (not pull requests), in number order. */
  issues(fullName: string): SeenIssue[];
  /** Gives a user read, write or admin (GitLab: Maintainer) access to the repository. */
  setAccess(fullName: string, user: string, access: "read" | "write" | "admin"): void;
  /** Answers the next requests matching `matcher` with `responses` (see FaultPlan). */
  failNext(matcher: FaultMatcher, responses: FaultResponse[]): void;
  /** Every request the simulator answered, in order. */
  requests(): readonly RequestRecord[];
  /** The API paths (without the REST prefix) of what Ferry calls on a repository, for fault matchers. */
  apiPaths(fullName: string): ForgeApiPaths;
  /** Serves `bytes` as the archive of `sha` in place of the real one (hand-made hostile tarballs). */
  serveArchive(fullName: string, sha: string, bytes: Buffer): void;
  /** Status and deployment posts the forge refused as transitions its state machines do not allow (GitLab's 400s); none on GitHub. */
  refusedTransitions(): readonly unknown[];
  /** A change as the forge holds it now, or undefined when there is no such change. */
  change(fullName: string, number: number): HeldChange | undefined;
  /** Makes the forge refuse the app's merges into `branch`, as branch protection or failed merge checks do. */
  refuseMerges(fullName: string, branch: string): void;
  /** Stops the simulator. */
  close(): Promise<void>;
}

/** Path prefixes of the forge's API calls Ferry makes for one repository (without `/api/v3` or `/api/v4`). */
export interface ForgeApiPaths {
  /** Posting a commit status (any sha). */
  statuses: string;
  /** Creating and listing the comments of change `n`. */
  comments(change: number): string;
  /** Downloading an archive (the first hop). */
  archive: string;
  /** Reading the head of `main`. */
  branch: string;
  /** Listing and opening issues; with `/<number>` after it, editing and closing one. */
  issues: string;
  /** Looking up the changes merged as commit `sha`. */
  mergedChanges(sha: string): string;
  /** The first read of a user's access to the repository. */
  access: string;
}
