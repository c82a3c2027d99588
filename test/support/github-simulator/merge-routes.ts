import express, { type Router } from "express";
import { param, sendError, withRepo, type SimulatorContext } from "./context.js";

/**
 * `PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge` (docs.github.com/rest/pulls/pulls#merge-a-pull-request),
 * merging with real git (`--no-ff`). Answers as GitHub does: 404 unknown, 405 "Pull Request is not
 * mergeable" (closed, merged, conflicting) or the protected branch's refusal, 409 when `sha` is not
 * the head, 200 `{sha, merged, message}`. Needs `contents: write`.
 */
export function mergeRoutes(ctx: SimulatorContext): Router {
  const router = express.Router();
  router.put(
    "/repos/:owner/:repo/pulls/:number/merge",
    withRepo(
      ctx,
      async (req, res, repo) => {
        const number = Number(param(req, "number"));
        const pr = repo.pulls.get(number);
        if (pr === undefined) {
          sendError(res, 404, "Not Found");
          return;
        }
        const body = req.body as { sha?: unknown };
        if ((pr.state ?? (pr.merged ? "closed" : "open")) !== "open") {
          sendError(res, 405, "Pull Request is not mergeable");
          return;
        }
        if (typeof body.sha === "string" && body.sha !== pr.headSha) {
          sendError(res, 409, "Head branch was modified. Review and try the merge again.");
          return;
        }
        const protection = repo.protectedBranches.get(pr.baseRef);
        if (protection !== undefined) {
          sendError(res, 405, protection);
          return;
        }
        let sha: string;
        try {
          sha = await repo.git.merge(
            pr.headRef,
            pr.baseRef,
            `Merge pull request #${number} from ${repo.owner}/${pr.headRef}`,
          );
        } catch {
          sendError(res, 405, "Pull Request is not mergeable");
          return;
        }
        Object.assign(pr, { merged: true, mergeCommitSha: sha, state: "closed" });
        res.json({ sha, merged: true, message: "Pull Request successfully merged" });
      },
      { anyOf: ["contents"], access: "write" },
    ),
  );
  return router;
}
