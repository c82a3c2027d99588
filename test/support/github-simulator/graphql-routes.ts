import express, { type Response, type Router } from "express";
import { permissionsOf, sendError, type SimulatorContext } from "./context.js";
import { nextIssueNumber } from "./issue-routes.js";
import { pullNodeId } from "./json.js";
import type { SimRepo } from "./model.js";

/** What GitHub's web UI says when it cannot revert a pull request, which the mutation answers too. */
export const revertConflictMessage =
  "Sorry, this pull request couldn’t be reverted automatically. It may have already been reverted, or the content may have changed since it was merged.";

/**
 * The one document the simulator answers: `revertPullRequest(input: $input)` selecting fields of the
 * new pull request, as an (optionally named) mutation with one variable `$input: RevertPullRequestInput!`.
 * No `graphql` parser is a dependency, so this is matched strictly; anything else is refused.
 */
const REVERT_DOCUMENT =
  /^mutation(?:\s+\w+)?\s*\(\s*\$input\s*:\s*RevertPullRequestInput!\s*\)\s*\{\s*revertPullRequest\s*\(\s*input\s*:\s*\$input\s*\)\s*\{\s*revertPullRequest\s*\{([\w\s]+)\}\s*\}\s*\}$/;

/** Fields of the new pull request the simulator can select. */
const PULL_FIELDS = new Set(["number", "url", "headRefName", "headRefOid", "title", "body"]);

/** One GraphQL error as GitHub words it. */
interface GraphqlError {
  type?: string;
  path?: string[];
  message: string;
}

/**
 * GitHub's GraphQL endpoint (GHES: `POST /api/graphql`, which Octokit derives from `/api/v3`), with
 * the one mutation Ferry sends: `revertPullRequest` (docs.github.com/graphql/reference/mutations#revertpullrequest),
 * which makes `revert-<n>-<head>` (the web button's name; `-2`… when taken) off the base branch, reverts the merge commit onto it with real git
 * (`-m 1`), and opens a pull request by the app's bot. A revert git cannot make is GitHub's error
 * answer (HTTP 200, `data.revertPullRequest: null`, `errors[]` with type `UNPROCESSABLE`). It needs
 * `contents: write` and `pull_requests: write`, else `FORBIDDEN` "Resource not accessible by integration".
 */
export function graphqlRoutes(ctx: SimulatorContext): Router {
  const router = express.Router();
  router.post("/api/graphql", async (req, res) => {
    const check = ctx.auth.verifyInstallationToken(req.get("authorization"));
    if (!check.ok) {
      sendError(res, 401, "Bad credentials");
      return;
    }
    const body = req.body as { query?: unknown; variables?: { input?: Record<string, unknown> } };
    const query = typeof body.query === "string" ? body.query.trim() : "";
    const match = REVERT_DOCUMENT.exec(query);
    const fields = match?.[1]?.trim().split(/\s+/) ?? [];
    if (match === null || fields.some((f) => !PULL_FIELDS.has(f))) {
      sendErrors(res, [
        { message: `simulator: only the revertPullRequest mutation is served, got: ${query.slice(0, 200)}` },
      ]);
      return;
    }
    const input = body.variables?.input ?? {};
    const id = typeof input["pullRequestId"] === "string" ? input["pullRequestId"] : "";
    const found = findPull(ctx, id, check.value.installationId);
    if (found === undefined) {
      sendErrors(res, [
        {
          type: "NOT_FOUND",
          path: ["revertPullRequest"],
          message: `Could not resolve to a node with the global id of '${id}'`,
        },
      ]);
      return;
    }
    const held = permissionsOf(ctx, found.repo.installationId);
    if (held["contents"] !== "write" || held["pull_requests"] !== "write") {
      sendErrors(res, [
        { type: "FORBIDDEN", path: ["revertPullRequest"], message: "Resource not accessible by integration" },
      ]);
      return;
    }
    const created = await revert(ctx, found.repo, found.number, input);
    if ("error" in created) {
      sendErrors(res, [{ type: "UNPROCESSABLE", path: ["revertPullRequest"], message: created.error }]);
      return;
    }
    const all: Record<string, unknown> = {
      number: created.number,
      url: `${ctx.urls.web}/${found.repo.fullName}/pull/${created.number}`,
      headRefName: created.branch,
      headRefOid: created.sha,
      title: created.title,
      body: created.body,
    };
    res.json({
      data: { revertPullRequest: { revertPullRequest: Object.fromEntries(fields.map((f) => [f, all[f]])) } },
    });
  });
  return router;
}

/** Makes the revert branch and pull request, or says why not in GitHub's words. */
async function revert(
  ctx: SimulatorContext,
  repo: SimRepo,
  number: number,
  input: Record<string, unknown>,
): Promise<{ number: number; branch: string; sha: string; title: string; body: string } | { error: string }> {
  const pr = repo.pulls.get(number);
  if (pr?.merged !== true || pr.mergeCommitSha === undefined) return { error: "Pull request is not merged" };
  let branch = `revert-${number}-${pr.headRef}`;
  for (let n = 2; (await repo.git.resolve(`refs/heads/${branch}`)) !== undefined; n++)
    branch = `revert-${number}-${pr.headRef}-${n}`;
  await repo.git.branch(branch, pr.baseRef);
  const reverted = await repo.git.revertOnto(branch, pr.mergeCommitSha);
  if ("conflict" in reverted) {
    await repo.git.deleteBranch(branch);
    return { error: revertConflictMessage };
  }
  const title =
    typeof input["title"] === "string" ? input["title"] : `Revert "${pr.title ?? `Pull request #${number}`}"`;
  const body = typeof input["body"] === "string" ? input["body"] : `Reverts ${repo.fullName}#${number}`;
  const created = nextIssueNumber(repo);
  repo.pulls.set(created, {
    number: created,
    headSha: reverted.sha,
    headRef: branch,
    baseRef: pr.baseRef,
    user: `${ctx.appSlug}[bot]`,
    title,
    body,
  });
  return { number: created, branch, sha: reverted.sha, title, body };
}

/** The repository and number of the pull request a node id names, if the installation can see it. */
function findPull(
  ctx: SimulatorContext,
  id: string,
  installationId: number,
): { repo: SimRepo; number: number } | undefined {
  for (const repo of ctx.repos.values()) {
    if (repo.installationId !== installationId) continue;
    for (const number of repo.pulls.keys()) if (pullNodeId(repo, number) === id) return { repo, number };
  }
  return undefined;
}

/** GitHub's GraphQL error answer: HTTP 200, `data` null for the failed field, the errors listed. */
function sendErrors(res: Response, errors: GraphqlError[]): void {
  const data = errors.some((e) => e.path !== undefined) ? { revertPullRequest: null } : null;
  res.json({ data, errors: errors.map((e) => ({ ...e, locations: [{ line: 2, column: 3 }] })) });
}
