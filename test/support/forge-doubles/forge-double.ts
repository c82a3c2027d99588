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
  /** Comments on a change, in creation order. */
  comments(fullName: string, change: number): SeenComment[];
  /** The repository's issues (not pull requests), in number order. */
  issues(fullName: string): SeenIssue[];
  /** Gives a user read or write access to the repository. */
  setAccess(fullName: string, user: string, access: "read" | "write"): void;
  /** Answers the next requests matching `matcher` with `responses` (see FaultPlan). */
  failNext(matcher: FaultMatcher, responses: FaultResponse[]): void;
  /** Every request the simulator answered, in order. */
  requests(): readonly RequestRecord[];
  /** The API paths (without the REST prefix) of what Ferry calls on a repository, for fault matchers. */
  apiPaths(fullName: string): ForgeApiPaths;
  /** Serves `bytes` as the archive of `sha` in place of the real one (hand-made hostile tarballs). */
  serveArchive(fullName: string, sha: string, bytes: Buffer): void;
  /** Status posts the forge refused as transitions its state machine does not allow (GitLab's 400s); none on GitHub. */
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
