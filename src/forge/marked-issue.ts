import type { EnsuredIssue } from "./types.js";
import { withMarker } from "./with-marker.js";

/** An open issue as a forge lists it, with the words Ferry compares. */
export interface OpenIssue {
  /** Number (GitLab: iid). */
  number: number;
  /** Current title. */
  title: string;
  /** Current body (GitLab: description); empty when it has none. */
  body: string;
  /** Web page. */
  url: string;
}

/**
 * The calls one forge makes on its issues, each turning a failure into a FerryError; what
 * `ensureMarkedIssue` and `closeMarkedIssue` decide is written once, above the forges.
 */
export interface IssueOps {
  /** Open issues labelled `ferryIssueLabel` that Ferry's own user opened (pull requests left out), oldest first. */
  ownOpenIssues(): Promise<OpenIssue[]>;
  /** Opens an issue labelled `ferryIssueLabel`. */
  create(title: string, body: string): Promise<{ number: number; url: string }>;
  /** Replaces an issue's title and body. */
  edit(number: number, title: string, body: string): Promise<void>;
  /** Whether Ferry's own user already commented exactly `body` on the issue. */
  hasOwnComment(number: number, body: string): Promise<boolean>;
  /** Adds a comment to the issue. */
  comment(number: number, body: string): Promise<void>;
  /** Closes the issue as done; closing a closed one is no error. */
  close(number: number): Promise<void>;
}

/**
 * Keeps one open issue holding `marker` (see `Forge.ensureIssue`): the oldest of Ferry's open issues
 * holding it is edited when its title or body differs and left alone otherwise, or one is opened;
 * any newer one holding it (jobs that raced) is closed as a duplicate of it.
 */
export async function ensureMarkedIssue(
  ops: IssueOps,
  marker: string,
  untrimmed: string,
  body: string,
): Promise<EnsuredIssue> {
  const content = withMarker(body, marker);
  // Forges strip a title's surrounding blanks (GitLab: `strip_attributes! :title`); compare what they keep.
  const title = untrimmed.trim();
  const [kept, ...duplicates] = (await ops.ownOpenIssues()).filter((issue) => issue.body.includes(marker));
  let ensured: EnsuredIssue;
  if (kept === undefined) {
    ensured = { ...(await ops.create(title, content)), created: true };
  } else {
    if (kept.title !== title || kept.body !== content) await ops.edit(kept.number, title, content);
    ensured = { number: kept.number, created: false, url: kept.url };
  }
  for (const duplicate of duplicates)
    await closeOnce(ops, duplicate.number, `Closed as a duplicate of #${ensured.number}.`);
  return ensured;
}

/**
 * Comments `comment` on each of Ferry's open issues holding `marker` and closes it (see
 * `Forge.closeIssue`); false when none was open.
 */
export async function closeMarkedIssue(ops: IssueOps, marker: string, comment: string): Promise<boolean> {
  if (marker === "") throw new Error("a marker must not be empty");
  const open = (await ops.ownOpenIssues()).filter((issue) => issue.body.includes(marker));
  for (const issue of open) await closeOnce(ops, issue.number, comment);
  return open.length > 0;
}

/**
 * Comments, then closes. A retry after the comment went through but the close failed finds the
 * comment and does not post it again (creating comments is never retried in place: the forge may
 * have made one before failing).
 */
async function closeOnce(ops: IssueOps, number: number, comment: string): Promise<void> {
  if (!(await ops.hasOwnComment(number, comment))) await ops.comment(number, comment);
  await ops.close(number);
}
