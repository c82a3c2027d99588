import { createHash } from "node:crypto";
import type { GitRepo } from "../git-repo.js";
import type { DeploymentRecord, EnvironmentRecord } from "./deployment-model.js";

export type { FaultMatcher, FaultResponse, RequestRecord } from "../simulator-faults.js";

/** A project the simulator serves, as tests and webhook builders name it. */
export interface GitLabProjectRef {
  /** Numeric project id. */
  id: number;
  /** Path with namespace, e.g. `acme/shop`. */
  path: string;
}

/** GitLab's member access levels. */
export const accessLevels = {
  none: 0,
  minimal: 5,
  guest: 10,
  reporter: 20,
  developer: 30,
  maintainer: 40,
  owner: 50,
} as const;

/** One access level number (0: not a member). */
export type GitLabAccessLevel = (typeof accessLevels)[keyof typeof accessLevels];

/** States a commit status can be in, as GitLab's CommitStatus state machine names them. */
export type CommitStatusState = "created" | "pending" | "running" | "success" | "failed" | "canceled";

/** States the status API accepts in `POST /projects/:id/statuses/:sha`. */
export const postableStates = ["pending", "running", "success", "failed", "canceled"] as const;

/** One state the status API accepts. */
export type PostableState = (typeof postableStates)[number];

/** Merge request states GitLab reports. */
export type MergeRequestState = "opened" | "closed" | "merged" | "locked";

/** A merge request registered with the simulator. */
export interface MergeRequestInput {
  /** The merge request's number within the project. */
  iid: number;
  /** Branch the changes come from (in the fork, when `fromFork`). */
  sourceBranch: string;
  /** Branch they merge into. */
  targetBranch: string;
  /** Head commit sha. */
  sha: string;
  /** Username of the author. */
  author: string;
  /** The merge commit on the target branch, once merged (null after a fast-forward merge). */
  mergeCommitSha?: string;
  /** The squash commit, when merged with squash. */
  squashCommitSha?: string;
  /** State; defaults to "merged" when `mergeCommitSha` is set, else "opened". */
  state?: MergeRequestState;
  /** Whether the source branch lives in a fork (another project). */
  fromFork?: boolean;
  /** Title; defaults to "Merge request !<iid>". */
  title?: string;
  /** Description; defaults to empty. */
  description?: string;
}

/** What `updateMergeRequest` may change: anything but the iid. */
export type MergeRequestPatch = Partial<Omit<MergeRequestInput, "iid">>;

/** A note a person (not the token's user) writes, for `addNote`. */
export interface UserNote {
  /** Username of the author. */
  user: string;
  /** The note's text. */
  body: string;
  /** Whether GitLab wrote it (a system note such as "added 1 commit"). */
  system?: boolean;
}

/** Issue states GitLab reports. */
export type IssueState = "opened" | "closed";

/** An issue a person (not the token's user) opens, for `addIssue`. */
export interface UserIssue {
  /** Username of the author. */
  author: string;
  /** Title. */
  title: string;
  /** Description; defaults to none. */
  description?: string;
  /** Label names (created in the project when missing). */
  labels?: string[];
  /** State; defaults to "opened". */
  state?: IssueState;
}

/** An issue's current state, for assertions. */
export interface IssueRecord {
  /** The issue's number within the project. */
  iid: number;
  /** Current title. */
  title: string;
  /** Current description, or null when it has none. */
  description: string | null;
  /** Username of the author. */
  author: string;
  /** Opened or closed. */
  state: IssueState;
  /** Label names, in the order added. */
  labels: string[];
  /** How many PUTs changed its title or description. */
  edits: number;
  /** Creation time (ISO 8601). */
  createdAt: string;
  /** Last update time (ISO 8601). */
  updatedAt: string;
  /** When it was closed, or null while open. */
  closedAt: string | null;
  /** Username of who closed it, or null while open. */
  closedBy: string | null;
}

/** An award emoji on a note. */
export interface AwardRecord {
  /** Award id. */
  id: number;
  /** Emoji name, e.g. `eyes`, `thumbsup`. */
  name: string;
  /** Username of who awarded it. */
  user: string;
}

/** A merge request's or issue's note as it stands, for assertions. */
export interface NoteRecord {
  /** Note id. */
  id: number;
  /** The iid of the merge request (or, for an issue's note, the issue) it is on. */
  iid: number;
  /** Current body. */
  body: string;
  /** Username of the author. */
  author: string;
  /** Whether it is a system note. */
  system: boolean;
  /** How many times the body was edited through PUT. */
  edits: number;
  /** Award emoji on the note, in order. */
  awards: AwardRecord[];
  /** Creation time (ISO 8601). */
  createdAt: string;
  /** Last update time (ISO 8601). */
  updatedAt: string;
}

/** A commit status object as GitLab keeps it: one per (sha, ref, name, user) run, transitioned in place while pending or running. */
export interface CommitStatusObject {
  /** Status id. */
  id: number;
  /** Commit sha. */
  sha: string;
  /** Branch the status's pipeline is for. */
  ref: string;
  /** The name (or context) the status was posted with. */
  name: string;
  /** Current state. */
  status: CommitStatusState;
  /** Description, or null. */
  description: string | null;
  /** Target URL, or null. */
  targetUrl: string | null;
  /** Username of the poster. */
  author: string;
  /** Pipeline id (one per sha and ref). */
  pipelineId: number;
  /** Creation time (ISO 8601). */
  createdAt: string;
  /** When it started running, or null. */
  startedAt: string | null;
  /** When it finished, or null. */
  finishedAt: string | null;
}

/** One accepted `POST /statuses/:sha`, as the status stood after it, for assertions in order. */
export interface StatusRecord {
  /** Id of the status object the post created or transitioned. */
  id: number;
  /** Commit sha. */
  sha: string;
  /** Status name (context). */
  name: string;
  /** The state after the post. */
  status: CommitStatusState;
  /** Description after the post. */
  description: string | null;
  /** Target URL after the post. */
  targetUrl: string | null;
  /** The status's ref. */
  ref: string;
  /** Username of the poster. */
  author: string;
}

/** A status post GitLab refused with 400 because its state machine has no such transition. */
export interface StateMachineError {
  /** Project path. */
  project: string;
  /** Commit sha. */
  sha: string;
  /** Status name. */
  name: string;
  /** The state the existing status was in. */
  from: CommitStatusState;
  /** The state the post asked for. */
  requested: PostableState;
  /** GitLab's message, e.g. `Cannot transition status via :run from :running`. */
  message: string;
}

/** A project the simulator serves. */
export interface SimProject {
  /** Numeric id. */
  id: number;
  /** Path with namespace. */
  path: string;
  /** The last path segment (GitLab's `path`), used in archive prefixes. */
  name: string;
  /** The git repository whose commits are served. */
  git: GitRepo;
  /** Merge requests by iid. */
  mergeRequests: Map<number, MergeRequestInput>;
  /** Merge request notes in creation order. */
  notes: NoteRecord[];
  /** Issues by iid. */
  issues: Map<number, IssueRecord>;
  /** Issue notes in creation order (`iid` is the issue's). */
  issueNotes: NoteRecord[];
  /** Label names by lower-cased name (GitLab matches label titles case-insensitively). */
  labels: Map<string, string>;
  /** Commit status objects in creation order. */
  statuses: CommitStatusObject[];
  /** Every accepted status post, in order. */
  statusLog: StatusRecord[];
  /** Pipeline ids by `<sha> <ref>`. */
  pipelines: Map<string, number>;
  /** Member access levels by lower-cased username. */
  members: Map<string, GitLabAccessLevel>;
  /** Archives served for a commit in place of `git archive` (hand-made hostile tarballs), by sha. */
  archives: Map<string, Buffer>;
  /** Environments by id. */
  environments: Map<number, EnvironmentRecord>;
  /** Deployments in creation order. */
  deployments: DeploymentRecord[];
  /** Target branches whose merges through the API are refused, with GitLab's status and message. */
  mergeBlocks: Map<string, { status: number; message: string }>;
}

/** A user the simulator knows. */
export interface SimUser {
  /** Numeric id (stable for a username). */
  id: number;
  /** Username. */
  username: string;
  /** Whether the user is a bot (project or group access token user). */
  bot: boolean;
}

/** A stable numeric id for a username, so builders and the simulator agree without sharing state. */
export function gitlabUserId(username: string): number {
  return (createHash("sha256").update(username.toLowerCase()).digest().readUInt32BE(0) % 10_000_000) + 1;
}
