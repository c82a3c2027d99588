import { randomBytes } from "node:crypto";
import express, { type Router } from "express";
import { param, sendError, sendPage, sendValidationFailed, withRepo, type SimulatorContext } from "./context.js";
import { pullJson, userJson } from "./json.js";
import { repoKey } from "./model.js";

/** Repository endpoints that read git data, pull requests and permissions, mounted under `/api/v3`. */
export function repoRoutes(ctx: SimulatorContext): Router {
  const router = express.Router();

  // GitHub answers the tarball endpoint with a redirect to a short-lived download URL.
  router.get(
    ["/repos/:owner/:repo/tarball", "/repos/:owner/:repo/tarball/*ref"],
    withRepo(ctx, async (req, res, repo) => {
      const sha = await repo.git.resolve(param(req, "ref") || "main");
      if (sha === undefined) {
        sendError(res, 404, "Not Found");
        return;
      }
      const token = randomBytes(12).toString("hex");
      ctx.archiveTokens.set(token, { repo, sha });
      res.redirect(302, `${ctx.urls.web}/_codeload/${repo.fullName}/legacy.tar.gz/${sha}?token=${token}`);
    }),
  );

  router.get(
    "/repos/:owner/:repo/git/ref/*ref",
    withRepo(ctx, async (req, res, repo) => {
      const ref = param(req, "ref");
      const sha = /^(heads|tags)\/./.test(ref) ? await repo.git.resolve(`refs/${ref}`) : undefined;
      if (sha === undefined) {
        sendError(res, 404, "Not Found");
        return;
      }
      res.json({
        ref: `refs/${ref}`,
        node_id: Buffer.from(`03:Ref${repo.id}:refs/${ref}`).toString("base64"),
        url: `${ctx.urls.api}/repos/${repo.fullName}/git/refs/${ref}`,
        object: { sha, type: "commit", url: `${ctx.urls.api}/repos/${repo.fullName}/git/commits/${sha}` },
      });
    }),
  );

  router.get(
    "/repos/:owner/:repo/branches/*branch",
    withRepo(ctx, async (req, res, repo) => {
      const branch = param(req, "branch");
      const sha = await repo.git.resolve(`refs/heads/${branch}`);
      if (sha === undefined) {
        sendError(res, 404, "Branch not found");
        return;
      }
      res.json({
        name: branch,
        commit: { sha, url: `${ctx.urls.api}/repos/${repo.fullName}/commits/${sha}` },
        protected: false,
        _links: {
          self: `${ctx.urls.api}/repos/${repo.fullName}/branches/${branch}`,
          html: `${ctx.urls.web}/${repo.fullName}/tree/${branch}`,
        },
      });
    }),
  );

  router.get(
    "/repos/:owner/:repo/commits/:sha/pulls",
    withRepo(ctx, async (req, res, repo) => {
      const asked = param(req, "sha");
      const sha = (await repo.git.resolve(asked)) ?? asked;
      const pulls = [...repo.pulls.values()]
        .filter((pr) => pr.mergeCommitSha === sha || pr.headSha === sha)
        .map((pr) => pullJson(repo, pr, ctx.urls));
      res.json(pulls);
    }),
  );

  // GET /repos/{owner}/{repo}/pulls: `state` open (default), closed or all; `base` filters by base
  // branch; newest first (sort=created, direction=desc by default); paginated.
  router.get(
    "/repos/:owner/:repo/pulls",
    withRepo(
      ctx,
      (req, res, repo) => {
        const state = typeof req.query.state === "string" ? req.query.state : "open";
        if (!["open", "closed", "all"].includes(state)) {
          sendValidationFailed(res, "PullRequest", "state", "invalid");
          return;
        }
        const base = typeof req.query.base === "string" ? req.query.base : undefined;
        const pulls = [...repo.pulls.values()]
          .filter(
            (pr) =>
              (state === "all" || (pr.state ?? (pr.merged ? "closed" : "open")) === state) &&
              (base === undefined || pr.baseRef === base),
          )
          .sort((a, b) => b.number - a.number);
        sendPage(
          req,
          res,
          ctx,
          pulls.map((pr) => pullJson(repo, pr, ctx.urls)),
        );
      },
      { anyOf: ["pull_requests"], access: "read" },
    ),
  );

  router.get(
    "/repos/:owner/:repo/pulls/:number",
    withRepo(ctx, (req, res, repo) => {
      const pr = repo.pulls.get(Number(param(req, "number")));
      if (pr === undefined) {
        sendError(res, 404, "Not Found");
        return;
      }
      res.json(pullJson(repo, pr, ctx.urls));
    }),
  );

  router.get(
    "/repos/:owner/:repo/collaborators/:username/permission",
    withRepo(ctx, (req, res, repo) => {
      const login = param(req, "username");
      const permission = repo.permissions.get(login.toLowerCase()) ?? "none";
      res.json({
        permission,
        role_name: permission,
        user: {
          ...userJson(login, ctx.urls),
          permissions: {
            admin: permission === "admin",
            maintain: permission === "admin",
            push: permission === "admin" || permission === "write",
            triage: permission !== "none",
            pull: permission !== "none",
          },
          role_name: permission,
        },
      });
    }),
  );

  return router;
}

/** The download host the tarball endpoint redirects to (GHES serves it at `/_codeload`). */
export function codeloadRoutes(ctx: SimulatorContext): Router {
  const router = express.Router();
  router.get("/_codeload/:owner/:repo/legacy.tar.gz/:sha", async (req, res) => {
    const grant = ctx.archiveTokens.get(typeof req.query["token"] === "string" ? req.query["token"] : "");
    const fullName = `${param(req, "owner")}/${param(req, "repo")}`;
    if (grant === undefined || repoKey(grant.repo.fullName) !== repoKey(fullName) || grant.sha !== param(req, "sha")) {
      res.status(404).type("text/plain").send("Not Found");
      return;
    }
    const prefix = `${grant.repo.owner}-${grant.repo.name}-${grant.sha.slice(0, 7)}`;
    const bytes = grant.repo.archives.get(grant.sha) ?? (await grant.repo.git.archive(grant.sha, prefix));
    res
      .status(200)
      .set("content-type", "application/x-gzip")
      .set("content-disposition", `attachment; filename=${prefix}.tar.gz`)
      .send(bytes);
  });
  return router;
}
