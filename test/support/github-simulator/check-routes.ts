import express, { type Request, type Response, type Router } from "express";
import { objectBody } from "./feedback-routes.js";
import {
  orNotFound,
  param,
  sendError,
  sendValidationFailed,
  withRepo,
  type Needs,
  type SimulatorContext,
} from "./context.js";
import { timestamp, type Urls } from "./json.js";
import {
  checkRunConclusions,
  checkRunStatuses,
  repoKey,
  type CheckAnnotationRecord,
  type CheckRunRecord,
  type SimRepo,
} from "./model.js";

/** GitHub's limit on annotations in one create or update request. */
export const maxAnnotationsPerRequest = 50;

/** GitHub's limit on `output.summary` and `output.text`, in characters. */
export const maxCheckOutputLength = 65535;

/** GitHub's limit on an annotation's title, in characters. */
const maxAnnotationTitleLength = 255;

const annotationLevels = ["notice", "warning", "failure"] as const;

/**
 * Check run endpoints (docs.github.com/rest/checks/runs), mounted under `/api/v3`, refused with 403
 * "Resource not accessible by integration" without the installation's `checks` permission (read to
 * list, write to create and update). As documented in GitHub's REST description: `name` and
 * `head_sha` are required (and the sha must be a commit: 422); `status` one of queued, in_progress,
 * completed; a `conclusion` (one of seven; `stale` is GitHub's own) is required with `completed`
 * and makes the run completed; `output` needs `title` and `summary`, each of `summary` and `text`
 * at most 65,535 characters; at most 50 annotations a request, each with path, start_line,
 * end_line, annotation_level (notice, warning, failure) and message; an update appends its
 * annotations to the run's. Runs belong to one check suite per commit. The exact wording of
 * GitHub's 422s is not confirmed: they are modelled as "Validation Failed" naming the field.
 */
export function checkRoutes(ctx: SimulatorContext): Router {
  const router = express.Router();
  const checks = (access: Needs["access"]): Needs => ({ anyOf: ["checks"], access });

  router.post(
    "/repos/:owner/:repo/check-runs",
    withRepo(
      ctx,
      async (req, res, repo) => {
        const body = objectBody(req);
        const name = body["name"];
        const headSha = body["head_sha"];
        if (typeof name !== "string" || name === "") {
          sendValidationFailed(res, "CheckRun", "name", "missing_field");
          return;
        }
        if (typeof headSha !== "string" || headSha === "") {
          sendValidationFailed(res, "CheckRun", "head_sha", "missing_field");
          return;
        }
        const sha = await repo.git.resolve(headSha);
        if (sha === undefined || sha !== headSha) {
          sendError(res, 422, `No commit found for SHA: ${headSha}`);
          return;
        }
        const change = validate(res, body, true);
        if (change === undefined) return;
        let suiteId = repo.checkSuites.get(sha);
        if (suiteId === undefined) {
          suiteId = ctx.nextId();
          repo.checkSuites.set(sha, suiteId);
        }
        const now = timestamp();
        const run: CheckRunRecord = {
          id: ctx.nextId(),
          name,
          head_sha: sha,
          status: "queued",
          conclusion: null,
          external_id: "",
          details_url: null,
          started_at: now,
          completed_at: null,
          output: { title: null, summary: null, text: null },
          annotations: [],
          app: ctx.appSlug,
          suiteId,
          history: [],
          annotationRequests: 0,
        };
        apply(run, change);
        repo.checkRuns.push(run);
        res.status(201).json(checkRunJson(ctx, repo, run));
      },
      checks("write"),
    ),
  );

  router.patch(
    "/repos/:owner/:repo/check-runs/:id",
    withRepo(
      ctx,
      (req, res, repo) => {
        const run = findRun(req, res, repo);
        if (run === undefined) return;
        const change = validate(res, objectBody(req), false);
        if (change === undefined) return;
        apply(run, change);
        res.json(checkRunJson(ctx, repo, run));
      },
      checks("write"),
    ),
  );

  router.get(
    "/repos/:owner/:repo/check-runs/:id",
    withRepo(
      ctx,
      (req, res, repo) => {
        const run = findRun(req, res, repo);
        if (run !== undefined) res.json(checkRunJson(ctx, repo, run));
      },
      checks("read"),
    ),
  );

  router.get(
    "/repos/:owner/:repo/commits/:ref/check-runs",
    withRepo(
      ctx,
      async (req, res, repo) => {
        const sha = await repo.git.resolve(param(req, "ref"));
        const query = (key: string) => (typeof req.query[key] === "string" ? req.query[key] : undefined);
        const [checkName, status, filter] = [query("check_name"), query("status"), query("filter") ?? "latest"];
        let runs = [...repo.checkRuns]
          .filter((r) => r.head_sha === sha)
          .filter((r) => checkName === undefined || r.name === checkName)
          .filter((r) => status === undefined || r.status === status)
          .sort((a, b) => b.id - a.id);
        // `latest` (GitHub's default): the newest run of each name in each suite.
        if (filter === "latest") {
          const seen = new Set<string>();
          runs = runs.filter((r) => {
            const key = `${r.suiteId}\n${r.name}`;
            if (seen.has(key)) return false;
            seen.add(key);
            return true;
          });
        }
        res.json({ total_count: runs.length, check_runs: runs.slice(0, 100).map((r) => checkRunJson(ctx, repo, r)) });
      },
      checks("read"),
    ),
  );

  return router;
}

/** What a create or update asks to change, once validated. */
interface RunChange {
  status?: CheckRunRecord["status"];
  conclusion?: NonNullable<CheckRunRecord["conclusion"]>;
  externalId?: string;
  detailsUrl?: string;
  output?: { title: string; summary: string; text?: string; annotations: CheckAnnotationRecord[] };
}

/** Validates a create's or update's body as GitHub does, answering 422 and returning undefined when it refuses. */
function validate(res: Response, body: Record<string, unknown>, create: boolean): RunChange | undefined {
  const change: RunChange = {};
  const status = body["status"];
  if (status !== undefined) {
    if (!(checkRunStatuses as readonly unknown[]).includes(status)) {
      sendValidationFailed(res, "CheckRun", "status", "invalid", "status is not included in the list");
      return undefined;
    }
    change.status = status as CheckRunRecord["status"];
  }
  const conclusion = body["conclusion"];
  if (conclusion !== undefined && conclusion !== null) {
    if (!(checkRunConclusions as readonly unknown[]).includes(conclusion)) {
      sendValidationFailed(res, "CheckRun", "conclusion", "invalid", "conclusion is not included in the list");
      return undefined;
    }
    change.conclusion = conclusion as NonNullable<CheckRunRecord["conclusion"]>;
  }
  if ((status === "completed" || body["completed_at"] !== undefined) && change.conclusion === undefined) {
    sendValidationFailed(res, "CheckRun", "conclusion", "missing_field", "conclusion can't be blank");
    return undefined;
  }
  if (typeof body["external_id"] === "string") change.externalId = body["external_id"];
  if (typeof body["details_url"] === "string") change.detailsUrl = body["details_url"];
  const output = body["output"];
  if (output !== undefined) {
    const o = (typeof output === "object" && output !== null ? output : {}) as Record<string, unknown>;
    const { title, summary, text } = o;
    if (typeof title !== "string" || typeof summary !== "string") {
      sendValidationFailed(res, "CheckRun", typeof title !== "string" ? "title" : "summary", "missing_field");
      return undefined;
    }
    for (const [field, value] of [
      ["summary", summary],
      ["text", text],
    ] as const) {
      if (typeof value === "string" && value.length > maxCheckOutputLength) {
        sendValidationFailed(
          res,
          "CheckRun",
          field,
          "custom",
          `${field} is too long (maximum is ${maxCheckOutputLength} characters)`,
        );
        return undefined;
      }
    }
    const annotations = o["annotations"] ?? [];
    if (!Array.isArray(annotations)) {
      sendValidationFailed(res, "CheckRun", "annotations", "invalid");
      return undefined;
    }
    if (annotations.length > maxAnnotationsPerRequest) {
      sendValidationFailed(
        res,
        "CheckRun",
        "annotations",
        "custom",
        `only ${maxAnnotationsPerRequest} annotations are allowed per request`,
      );
      return undefined;
    }
    const parsed: CheckAnnotationRecord[] = [];
    for (const raw of annotations as unknown[]) {
      const a = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
      const level = a["annotation_level"];
      const ok =
        typeof a["path"] === "string" &&
        a["path"] !== "" &&
        Number.isInteger(a["start_line"]) &&
        Number.isInteger(a["end_line"]) &&
        (a["start_line"] as number) >= 1 &&
        (a["end_line"] as number) >= (a["start_line"] as number) &&
        (annotationLevels as readonly unknown[]).includes(level) &&
        typeof a["message"] === "string" &&
        a["message"] !== "" &&
        (a["title"] === undefined || (typeof a["title"] === "string" && a["title"].length <= maxAnnotationTitleLength));
      if (!ok) {
        sendValidationFailed(res, "CheckRun", "annotations", "invalid");
        return undefined;
      }
      parsed.push({
        path: a["path"] as string,
        start_line: a["start_line"] as number,
        end_line: a["end_line"] as number,
        annotation_level: level as CheckAnnotationRecord["annotation_level"],
        message: a["message"] as string,
        title: typeof a["title"] === "string" ? a["title"] : null,
      });
    }
    change.output = { title, summary, ...(typeof text === "string" ? { text } : {}), annotations: parsed };
  }
  if (create && change.status === undefined && change.conclusion === undefined) change.status = "queued";
  return change;
}

/** Applies a validated change: a conclusion completes the run, annotations are appended. */
function apply(run: CheckRunRecord, change: RunChange): void {
  if (change.status !== undefined) run.status = change.status;
  if (change.conclusion !== undefined) {
    run.status = "completed";
    run.conclusion = change.conclusion;
    run.completed_at = timestamp();
  } else if (change.status !== undefined && change.status !== "completed") {
    run.conclusion = null;
    run.completed_at = null;
  }
  if (change.externalId !== undefined) run.external_id = change.externalId;
  if (change.detailsUrl !== undefined) run.details_url = change.detailsUrl;
  if (change.output !== undefined) {
    run.output = {
      title: change.output.title,
      summary: change.output.summary,
      text: change.output.text ?? run.output.text,
    };
    if (change.output.annotations.length > 0) {
      run.annotations.push(...change.output.annotations);
      run.annotationRequests++;
    }
  }
  run.history.push({ status: run.status, conclusion: run.conclusion, title: run.output.title ?? "" });
}

/** Check run `:id`, or undefined after answering 404. */
function findRun(req: Request, res: Response, repo: SimRepo): CheckRunRecord | undefined {
  const id = Number(param(req, "id"));
  return orNotFound(
    res,
    repo.checkRuns.find((r) => r.id === id),
  );
}

/** A check run as GitHub's REST API returns it; `pull_requests` lists the repository's own pull requests whose head is the run's sha. */
function checkRunJson(ctx: SimulatorContext, repo: SimRepo, run: CheckRunRecord): Record<string, unknown> {
  const urls: Urls = ctx.urls;
  const api = `${urls.api}/repos/${repo.fullName}`;
  const repoLink = { id: repo.id, url: api, name: repo.name };
  const pulls = [...repo.pulls.values()]
    .filter((pr) => pr.headSha === run.head_sha && pr.state !== "closed" && pr.merged !== true)
    .filter(
      (pr) => pr.headRepo === undefined || (pr.headRepo !== null && repoKey(pr.headRepo) === repoKey(repo.fullName)),
    )
    .map((pr) => ({
      id: 900_000 + pr.number,
      number: pr.number,
      url: `${api}/pulls/${pr.number}`,
      head: { ref: pr.headRef, sha: pr.headSha, repo: repoLink },
      base: { ref: pr.baseRef, sha: "", repo: repoLink },
    }));
  return {
    id: run.id,
    head_sha: run.head_sha,
    node_id: Buffer.from(`CheckRun${run.id}`).toString("base64"),
    external_id: run.external_id,
    url: `${api}/check-runs/${run.id}`,
    html_url: `${urls.web}/${repo.fullName}/runs/${run.id}`,
    details_url: run.details_url,
    status: run.status,
    conclusion: run.conclusion,
    started_at: run.started_at,
    completed_at: run.completed_at,
    output: {
      title: run.output.title,
      summary: run.output.summary,
      text: run.output.text,
      annotations_count: run.annotations.length,
      annotations_url: `${api}/check-runs/${run.id}/annotations`,
    },
    name: run.name,
    check_suite: { id: run.suiteId },
    app: { id: ctx.auth.appId, slug: run.app, name: run.app },
    pull_requests: pulls,
  };
}
