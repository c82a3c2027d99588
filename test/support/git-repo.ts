import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** Environment for every git call: no user or system config, so tests behave the same on any machine. */
const gitEnv: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_TERMINAL_PROMPT: "0",
  LC_ALL: "C",
};

/** A real git repository in a temporary directory, driven through the `git` CLI. */
export class GitRepo {
  /** Absolute path of the working tree. */
  readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** Creates an empty repository whose initial branch is `main`. */
  static async create(name = "repo"): Promise<GitRepo> {
    const safeName = name.replace(/[^A-Za-z0-9._-]/g, "-");
    const dir = await mkdtemp(path.join(tmpdir(), `ferry-git-${safeName}-`));
    const repo = new GitRepo(dir);
    await repo.git("init", "-q", "-b", "main");
    await repo.git("config", "user.name", "Ferry Test");
    await repo.git("config", "user.email", "ferry-test@example.com");
    await repo.git("config", "commit.gpgsign", "false");
    await repo.git("config", "core.autocrlf", "false");
    return repo;
  }

  /** Writes files relative to the repository root; a `null` content deletes the file. */
  async writeFiles(files: Record<string, string | null>): Promise<void> {
    for (const [relative, content] of Object.entries(files)) {
      const target = path.resolve(this.dir, relative);
      if (!target.startsWith(this.dir + path.sep)) {
        throw new Error(`path ${relative} is outside the repository`);
      }
      if (content === null) {
        await rm(target, { force: true });
      } else {
        await mkdir(path.dirname(target), { recursive: true });
        await writeFile(target, content);
      }
    }
  }

  /** Stages every change (`git add -A`) and commits it, returning the new commit's sha. */
  async commit(message: string): Promise<string> {
    await this.git("add", "-A");
    await this.git("commit", "-q", "--allow-empty", "-m", message);
    return this.revParse("HEAD");
  }

  /** Creates branch `name` at `from` (default: the current HEAD) without checking it out. */
  async branch(name: string, from?: string): Promise<void> {
    await this.git("branch", name, ...(from === undefined ? [] : [from]));
  }

  /** Checks out an existing branch or commit. */
  async checkout(name: string): Promise<void> {
    await this.git("checkout", "-q", name);
  }

  /** Returns the sha the branch points at. */
  async head(branch: string): Promise<string> {
    return this.revParse(`refs/heads/${branch}`);
  }

  /** Resolves a branch, tag or (abbreviated) sha to a full commit sha, or `undefined` if unknown. */
  async resolve(ref: string): Promise<string | undefined> {
    if (ref === "" || ref.startsWith("-")) return undefined;
    try {
      const { stdout } = await execFileAsync("git", ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], {
        cwd: this.dir,
        env: gitEnv,
      });
      return stdout.trim() || undefined;
    } catch {
      return undefined;
    }
  }

  /** Returns `git archive --format=tar.gz --prefix=<prefix>/ <ref>` as bytes. */
  async archive(ref: string, prefix: string): Promise<Buffer> {
    const sha = await this.revParse(ref);
    const { stdout } = await execFileAsync(
      "git",
      ["archive", "--format=tar.gz", `--prefix=${prefix.replace(/\/+$/, "")}/`, sha],
      { cwd: this.dir, env: gitEnv, encoding: "buffer", maxBuffer: 512 * 1024 * 1024 },
    );
    return stdout;
  }

  /** Merges `source` into `into` with a merge commit (`--no-ff`), leaving `into` checked out; returns its sha. */
  async merge(source: string, into: string, message: string): Promise<string> {
    await this.checkout(into);
    await this.git("merge", "-q", "--no-ff", "-m", message, source);
    return this.revParse("HEAD");
  }

  /**
   * Reverts `sha` onto `branch` as `git revert` does (a merge commit against its first parent, `-m 1`),
   * in a worktree of its own so the checkout stays as it is: the new commit, or git's words when the
   * revert conflicts (the branch is then left as it was). `branch` must not be the one checked out.
   */
  async revertOnto(branch: string, sha: string): Promise<{ sha: string } | { conflict: string }> {
    const parents = (await this.git("rev-list", "--parents", "-n", "1", sha)).trim().split(" ").length - 1;
    const dir = await mkdtemp(path.join(tmpdir(), "ferry-git-revert-"));
    await this.git("worktree", "add", "-q", "--detach", dir, `refs/heads/${branch}`);
    try {
      const args = ["revert", "--no-edit", ...(parents > 1 ? ["-m", "1"] : []), sha];
      try {
        await execFileAsync("git", args, { cwd: dir, env: gitEnv });
      } catch (error) {
        const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
        return { conflict: `${stdout}${stderr}`.trim() };
      }
      const { stdout } = await execFileAsync("git", ["rev-parse", "HEAD"], { cwd: dir, env: gitEnv });
      const head = stdout.trim();
      await this.git("update-ref", `refs/heads/${branch}`, head);
      return { sha: head };
    } finally {
      await this.git("worktree", "remove", "--force", dir);
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Deletes branch `name` (not the one checked out). */
  async deleteBranch(name: string): Promise<void> {
    await this.git("branch", "-D", name);
  }

  /** The parents of commit `sha`. */
  async parents(sha: string): Promise<string[]> {
    return (await this.git("rev-list", "--parents", "-n", "1", sha)).trim().split(" ").slice(1);
  }

  /** Deletes the repository directory. */
  async dispose(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  private async revParse(ref: string): Promise<string> {
    const sha = await this.resolve(ref);
    if (sha === undefined) throw new Error(`unknown git ref ${ref} in ${this.dir}`);
    return sha;
  }

  private async git(...args: string[]): Promise<string> {
    const { stdout } = await execFileAsync("git", args, { cwd: this.dir, env: gitEnv });
    return stdout;
  }
}
