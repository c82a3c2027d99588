import type { Readable } from "node:stream";
import type { RepoRef } from "../domain/repo.js";

/** States a commit status moves through; each forge maps them to its own words. */
export type StatusState = "pending" | "running" | "success" | "failure";

/** One commit status, e.g. `ferry/deploy/staging`. */
export interface CommitStatus {
  /** `ferry/deploy/<env>` or `ferry/plan/<env>`. */
  context: string;
  state: StatusState;
  /** Short text; forges cap it (GitHub: 140 characters), so callers keep it short and the forge trims. */
  description: string;
  /** Link shown beside the status. */
  targetUrl?: string;
  /**
   * When Ferry decided on this status (ms since the epoch): one made before a status already sent
   * for the same commit and context is stale, and is dropped (see finalStatusOnce). Never sent to the forge.
   */
  madeAt?: number;
}

/**
 * Where a release's deployment record stands, in Ferry's words; each forge maps them to its own
 * (GitHub: the same names; GitLab: `running` for the first two, `failed`, and `canceled` for `inactive`).
 */
export type DeploymentState = "queued" | "in_progress" | "success" | "failure" | "inactive";

/** One release of an environment at a commit, as the forge's deployment records show it. */
export interface DeploymentTarget {
  /** The Ferry environment (GitHub's `environment`, GitLab's environment name). */
  environment: string;
  /** The commit released. */
  sha: string;
  /** The branch it was released from (GitLab's `ref`; GitHub's `ref` is the sha itself). */
  branch: string;
  /** The rollout releasing it (GitHub: the deployment's payload). */
  rolloutId: string;
  /** Whether end users reach this environment (GitHub's `production_environment`, GitLab's `production` tier). */
  production: boolean;
  /** Whether the environment goes away at some point (GitHub's `transient_environment`; GitLab has none). */
  transient: boolean;
  /** Where the environment is reached (GitHub's `environment_url`, GitLab's `external_url`), when `.ferry.yml` gives one. */
  url?: string;
}

/** What a deployment state says beside its state. */
export interface DeploymentStateDetails {
  /** Short text (GitHub caps it at 140 characters; GitLab deployments have no description and drop it). */
  description: string;
  /** The rollout page (GitHub's `log_url`). */
  logUrl: string;
  /** Where the environment is reached (GitHub's `environment_url`), when known. */
  environmentUrl?: string;
}

/** How a finished check run ended: changes to make, nothing to change, or an error to fix. */
export type CheckConclusion = "success" | "neutral" | "failure";

/** A line (or lines) of a file in the repository a check run points at, as GitHub's annotations do. */
export interface CheckAnnotation {
  /** The file, relative to the repository's root (e.g. `.ferry.yml`, `deploy/web.yaml`). */
  path: string;
  /** First line, from 1. */
  startLine: number;
  /** Last line (the same as `startLine` for one line). */
  endLine: number;
  /** How bad it is: `failure` blocks the plan, `warning` and `notice` inform. */
  level: "notice" | "warning" | "failure";
  /** What is wrong there, in Ferry's words. */
  message: string;
  /** A short heading (GitHub caps it at 255 characters). */
  title?: string;
}

/** What `Forge.ensureCheckRun` shows: one check run, in progress or finished. */
export interface CheckRunReport {
  /** The check's name, e.g. `ferry/plan/staging` (the context a commit status would have). */
  name: string;
  /** Undefined while the work runs (the run shows in progress); how it ended once it has. */
  conclusion?: CheckConclusion;
  /** One line, as a commit status's description would say it. */
  title: string;
  /** The run's page, in Markdown (GitHub caps it at 65,535 characters; the caller keeps it under). */
  summary: string;
  /** More Markdown below the summary (same cap), e.g. the diffs. */
  text?: string;
  /** Link shown as the run's details, e.g. the full plan. */
  detailsUrl?: string;
  /** Lines of files to point at; the forge sends them in as many requests as it needs. */
  annotations?: CheckAnnotation[];
  /**
   * Who reports (the job's delivery id), kept on the run: a retried job finds and updates its own
   * run; another job (a push, `/ferry plan`, a Re-run) makes a new one.
   */
  externalId: string;
}

/** A change's (pull or merge request's) current head, as the forge reports it now. */
export interface ChangeHead {
  /** The head commit. */
  sha: string;
  /** The branch the change would merge into. */
  baseBranch: string;
  /** Whether the change is still open (neither closed nor merged). */
  open: boolean;
  /** Whether the head lives in another repository (a fork, or one since deleted). */
  fromFork: boolean;
}

/** An open change (pull or merge request), as the forge lists them. */
export interface OpenChange {
  /** Its number. */
  number: number;
  /** Its head commit. */
  headSha: string;
  /** Whether the head lives in another repository (a fork). */
  fromFork: boolean;
  /** Who opened it. */
  author: string;
}

/** A merged change, as `Forge.mergedChange` reads it: what a revert names and undoes. */
export interface MergedChange {
  /** Its number. */
  number: number;
  /** Its title. */
  title: string;
  /** The branch it merged into. */
  baseBranch: string;
  /** The commit it left on the base branch (merge, squash, or fast-forwarded head). */
  mergeSha: string;
  /** Its web page. */
  url: string;
}

/** What `Forge.revertChange` is asked to open. */
export interface RevertRequest {
  /** The title of the revert change. */
  title: string;
  /** Its description; holds `marker`. */
  body: string;
  /** A hidden marker naming the reverted change: an open change whose description holds it is the revert already opened. */
  marker: string;
}

/** The change that reverts another, as `Forge.revertChange` left it. */
export interface RevertChange {
  /** Its number. */
  number: number;
  /** Its web page. */
  url: string;
  /** Its head commit (the revert commit). */
  headSha: string;
  /** Its head branch. */
  branch: string;
  /** Whether this call opened it; false when an open revert of the change was found. */
  created: boolean;
}

/**
 * How `Forge.revertChange` and `Forge.mergeChange` end when the forge refuses: its own words, kept
 * whole for the reply (a revert that conflicts with later changes, a merge branch protection blocks).
 */
export interface ForgeRefusal {
  /** The forge's message, e.g. GitLab's `Sorry, we cannot revert this commit automatically...`. */
  refused: string;
}

/** How `Forge.mergeChange` ended: merged as `sha`, or refused in the forge's words. */
export type MergeResult = { merged: true; sha: string } | ({ merged: false } & ForgeRefusal);

/** Reactions Ferry leaves on a comment: seen, done, refused. */
export type Reaction = "eyes" | "+1" | "-1";

/** A user's access to a repository, on a scale both forges map to. */
export type AccessLevel = "none" | "read" | "write" | "admin";

/**
 * What Ferry needs from a forge, bound to one repository. Every verb is safe to repeat.
 */
export interface Forge {
  /** The repository this forge object acts on. */
  readonly repo: RepoRef;
  /** The largest comment body the forge accepts, in characters. */
  readonly maxCommentLength: number;
  /**
   * The largest issue body the forge accepts, as a JavaScript string length (marker included);
   * GitLab counts bytes, so its value is what fits however many bytes each character takes.
   */
  readonly maxIssueBodyLength: number;
  /** The commit a branch points at now. */
  branchHead(branch: string): Promise<string>;
  /** The repository's files at `sha`, as a gzip-compressed tarball. */
  downloadArchive(sha: string): Promise<Readable>;
  /** Sets a commit status; safe to repeat (a forge with a status state machine sends only real transitions). */
  setStatus(sha: string, status: CommitStatus): Promise<void>;
  /**
   * Creates or updates the check run named `run.name` on `sha`, keyed by (sha, name, `externalId`):
   * a retried job updates the run it made rather than adding one, never sends its annotations
   * twice, and never moves a run it completed back to in progress.
   * False when the forge shows no checks (GitLab), or the installation may not write them (GitHub
   * without `checks: write`): the caller sets a commit status of the same name instead.
   */
  ensureCheckRun(sha: string, run: CheckRunReport): Promise<boolean>;
  /** The latest status of `context` on `sha` (GitLab: the latest Ferry's user set), or undefined when it has none. */
  statusOf(sha: string, context: string): Promise<CommitStatus | undefined>;
  /** The changes (pull/merge requests) that were merged as `sha`, newest first. */
  changesMergedAs(sha: string): Promise<number[]>;
  /**
   * Creates the comment holding `marker` on a change, or edits it in place when it exists (left as
   * it is with `keep`: a retried job that knows less than the attempt that wrote it).
   */
  ensureComment(change: number, marker: string, body: string, options?: EnsureCommentOptions): Promise<void>;
  /** Adds a new comment to a change. */
  createComment(change: number, body: string): Promise<void>;
  /** The access a user has to the repository. */
  accessLevel(user: string): Promise<AccessLevel>;
  /** The open changes that would merge into `baseBranch`, newest first. */
  openChanges(baseBranch: string): Promise<OpenChange[]>;
  /** The current head, base branch and state of a change, read fresh (a queued job's copy may be stale). */
  changeHead(change: number): Promise<ChangeHead>;
  /** Adds a reaction to comment `commentId` on change `change`; the same reaction twice stays one. */
  react(change: number, commentId: number, reaction: Reaction): Promise<void>;
  /** The change as merged, or undefined while it is open or was closed without merging. */
  mergedChange(change: number): Promise<MergedChange | undefined>;
  /**
   * Opens a change that reverts merged change `change` onto its base branch (GitHub: the
   * `revertPullRequest` mutation; GitLab: a branch, the commit revert API onto it, a merge request);
   * when an open revert of it (from the branch Ferry or the forge names after it) exists, returns that
   * one instead. A revert the forge cannot make (conflicts with later changes) is a refusal in its words.
   */
  revertChange(change: MergedChange, request: RevertRequest): Promise<RevertChange | ForgeRefusal>;
  /** Merges open change `change` at `headSha` as the forge lets the app; a refusal (branch protection, checks, conflicts) in its words. */
  mergeChange(change: number, headSha: string): Promise<MergeResult>;
  /**
   * Keeps one open issue holding `marker`: edits the open one Ferry opened (title, trimmed, and
   * body, only when either differs), or opens one labelled `ferryIssueLabel`. Only open issues Ferry's own
   * user opened, still carrying the label, count; newer duplicates (two jobs racing) are closed.
   */
  ensureIssue(marker: string, title: string, body: string): Promise<EnsuredIssue>;
  /**
   * Comments `comment` on the open issue Ferry opened holding `marker` (once, however often this is
   * repeated) and closes it; false when none was open.
   */
  closeIssue(marker: string, comment: string): Promise<boolean>;
  /**
   * The id of the forge's deployment record of `target.environment` at `target.sha`, found (one
   * Ferry's user made, looked up by environment and sha) or created (GitLab: with its environment,
   * and the environment's URL and tier brought up to date; the new deployment starts `running`).
   * Safe to repeat: a retried job or redelivered webhook finds the one made before.
   */
  ensureDeployment(target: DeploymentTarget): Promise<number>;
  /**
   * Moves deployment `id` to `state`; safe to repeat. GitLab's state machine is respected: a state
   * the deployment is in already, or that it cannot move to (`running` once finished, `canceled`
   * once finished), is not sent.
   */
  setDeploymentState(id: number, state: DeploymentState, details: DeploymentStateDetails): Promise<void>;
}

/** The label Ferry puts on the issues it opens, so it finds them again with one filtered list. */
export const ferryIssueLabel = "ferry-drift";

/** The open issue `Forge.ensureIssue` left holding its marker. */
export interface EnsuredIssue {
  /** The issue's number (GitLab: its iid). */
  number: number;
  /** Whether this call opened it; false when an open one was found (and edited or left as it was). */
  created: boolean;
  /** The issue's web page. */
  url: string;
}

/** Options of `Forge.ensureComment`. */
export interface EnsureCommentOptions {
  /** Leave an existing comment holding the marker as it is; only create one when there is none. */
  keep?: boolean;
}

/** Builds the forge object for a repository (authenticating as the app installation or token). */
export type ForgeFactory = (repo: RepoRef) => Promise<Forge>;
