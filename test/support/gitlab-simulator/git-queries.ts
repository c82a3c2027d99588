import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { GitRepo } from "../git-repo.js";

const execFileAsync = promisify(execFile);

/** Environment for read-only git calls: no user or system config. */
const gitEnv: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  LC_ALL: "C",
};

async function git(repo: GitRepo, ...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync("git", args, { cwd: repo.dir, env: gitEnv });
  return stdout;
}

/** The branches whose history holds `sha`, sorted by name (GitLab attaches a status posted without `ref` to the first). */
export async function branchesContaining(repo: GitRepo, sha: string): Promise<string[]> {
  const out = await git(
    repo,
    "for-each-ref",
    "--contains",
    sha,
    "--sort=refname",
    "--format=%(refname:short)",
    "refs/heads/",
  );
  return out.split("\n").filter((line) => line !== "");
}

/** GitLab's commit object for `sha`, as branch responses embed it. */
export async function commitJson(repo: GitRepo, sha: string, webUrl: string): Promise<Record<string, unknown>> {
  const out = await git(repo, "show", "-s", "--format=%s%x00%B%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%P", sha);
  const [
    title = "",
    message = "",
    authorName = "",
    authorEmail = "",
    authored = "",
    committerName = "",
    committerEmail = "",
    committed = "",
    parents = "",
  ] = out.split("\0");
  return {
    id: sha,
    short_id: sha.slice(0, 8),
    created_at: committed,
    parent_ids: parents.trim() === "" ? [] : parents.trim().split(" "),
    title,
    message,
    author_name: authorName,
    author_email: authorEmail,
    authored_date: authored,
    committer_name: committerName,
    committer_email: committerEmail,
    committed_date: committed,
    trailers: {},
    extended_trailers: {},
    web_url: `${webUrl}/-/commit/${sha}`,
  };
}
