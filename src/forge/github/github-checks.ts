import type { Logger } from "pino";
import type { ProbotOctokit } from "probot";
import { forgeCall } from "../forge-call.js";
import { trimDescription } from "../trim-description.js";
import type { CheckAnnotation, CheckRunReport } from "../types.js";
import type { ChecksPermission } from "./checks-permission.js";
import { githubError, githubStatus } from "./github-error.js";

/** GitHub's limit on annotations per create or update request; more are appended by further updates. */
export const MAX_ANNOTATIONS_PER_REQUEST = 50;

/** GitHub's limit on a check run's `output.summary` and `output.text`, in characters. */
export const MAX_CHECK_OUTPUT_LENGTH = 65_535;

/** GitHub's limit on an annotation's title, in characters. */
const MAX_ANNOTATION_TITLE = 255;

/** GitHub's limit on a check run's `output.title` shown beside its name; Ferry keeps it to a status's length. */
const MAX_TITLE = 1_000;

/** What `GitHubChecks` is built from. */
export interface GitHubChecksOptions {
  /** An Octokit authenticated as the app installation. */
  octokit: ProbotOctokit;
  /** Repository owner. */
  owner: string;
  /** Repository name. */
  name: string;
  /** The app's bot login, e.g. `ferry[bot]`: only runs its app made count as Ferry's. */
  botLogin: string;
  /** The installation acted as: refusals are remembered per installation. */
  installationId: number;
  /** The factory's memory of installations that refused checks. */
  permission: ChecksPermission;
  /** Where the first refusal of a period is logged; silent without one. */
  log?: Logger | undefined;
}

/** A check run as Ferry found or made it. */
interface KnownRun {
  id: number;
  externalId: string;
  /** Annotations on it already. */
  annotations: number;
  /** Whether it has its conclusion. */
  completed: boolean;
}

/**
 * A repository's check runs through GitHub's REST checks API (docs.github.com/rest/checks/runs):
 * "Create a check run" and "Update a check run" need the app's `checks: write` permission, answered
 * 403 "Resource not accessible by integration" without it; annotations go at most 50 a request, and
 * each update appends its annotations to those the run has. One per forge object (one job): the
 * runs it made are remembered so the job's later writes update them without looking them up again.
 */
export class GitHubChecks {
  private readonly runs = new Map<string, KnownRun>();

  /** Binds the installation's Octokit to one repository. */
  constructor(private readonly options: GitHubChecksOptions) {}

  /**
   * Creates or updates the run (see `Forge.ensureCheckRun`); false, without a request, while the
   * installation is known to lack `checks: write`, and false when GitHub answers 403 now (logged
   * once per period). Other failures throw, as any forge call's do.
   */
  async ensure(sha: string, report: CheckRunReport): Promise<boolean> {
    const { permission, installationId } = this.options;
    if (permission.denied(installationId)) return false;
    try {
      await this.write(sha, report);
      return true;
    } catch (error) {
      if (!refusedChecks(error)) throw githubError(error, `writing check run ${report.name} on ${sha.slice(0, 7)}`);
      if (permission.deny(installationId))
        this.options.log?.warn(
          { installation: installationId, repository: `${this.options.owner}/${this.options.name}` },
          `GitHub refused check runs (403 Resource not accessible by integration): installation ${installationId} lacks the "checks: write" permission, so plans are commit statuses until it is granted (add it in the app's settings, then accept it on the installation)`,
        );
      return false;
    }
  }

  private async write(sha: string, report: CheckRunReport): Promise<void> {
    const key = `${sha}\n${report.name}`;
    let run = this.runs.get(key) ?? (await this.latest(sha, report.name));
    // Another job's run stays as that job left it: each plan (a push, `/ferry plan`, a Re-run, a
    // re-plan after a release) is a run of its own, as GitHub models runs, and no completed run is
    // sent back to in progress.
    if (run !== undefined && run.externalId !== report.externalId) run = undefined;
    // This job's own run, completed by an earlier attempt, keeps its conclusion until the next one.
    if (run?.completed === true && report.conclusion === undefined) return;
    const annotations = report.annotations ?? [];
    // GitHub appends annotations on every update: a run holding as many as this report has them
    // already (a retried job); one holding others gets a new run, so none shows twice.
    let pending = annotations;
    if (run !== undefined && run.annotations > 0) {
      if (run.annotations === annotations.length) pending = [];
      else if (annotations.length > 0) run = undefined;
    }
    const first = pending.slice(0, MAX_ANNOTATIONS_PER_REQUEST);
    const body = {
      owner: this.options.owner,
      repo: this.options.name,
      name: report.name,
      external_id: report.externalId,
      ...(report.detailsUrl === undefined ? {} : { details_url: report.detailsUrl }),
      ...(report.conclusion === undefined
        ? { status: "in_progress" as const }
        : { status: "completed" as const, conclusion: report.conclusion, completed_at: new Date().toISOString() }),
      output: output(report, first),
    };
    let id: number;
    if (run === undefined) {
      const { data } = await this.options.octokit.rest.checks.create({
        ...body,
        head_sha: sha,
        started_at: new Date().toISOString(),
        // A 5xx may have made the run: the job's retry finds it by name instead of making a second.
        request: { retries: 0 },
      });
      id = data.id;
      run = { id, externalId: report.externalId, annotations: 0, completed: false };
    } else {
      id = run.id;
      await this.options.octokit.rest.checks.update({ ...body, check_run_id: id });
    }
    run.annotations += first.length;
    run.completed = report.conclusion !== undefined;
    this.runs.set(key, run);
    for (let at = MAX_ANNOTATIONS_PER_REQUEST; at < pending.length; at += MAX_ANNOTATIONS_PER_REQUEST) {
      const batch = pending.slice(at, at + MAX_ANNOTATIONS_PER_REQUEST);
      await forgeCall(
        `adding annotations to check run ${report.name}`,
        async () => {
          await this.options.octokit.rest.checks.update({
            owner: this.options.owner,
            repo: this.options.name,
            check_run_id: id,
            output: output(report, batch),
          });
        },
        githubError,
      );
      run.annotations += batch.length;
    }
  }

  /** The newest run named `name` on `sha` that Ferry's app made, or undefined. */
  private async latest(sha: string, name: string): Promise<KnownRun | undefined> {
    const { data } = await this.options.octokit.rest.checks.listForRef({
      owner: this.options.owner,
      repo: this.options.name,
      ref: sha,
      check_name: name,
      filter: "all",
      per_page: 100,
    });
    const bot = this.options.botLogin.toLowerCase();
    const own = data.check_runs
      .filter((r) => r.name === name && r.head_sha === sha && `${r.app?.slug ?? ""}[bot]`.toLowerCase() === bot)
      .sort((a, b) => b.id - a.id)[0];
    return own === undefined
      ? undefined
      : {
          id: own.id,
          externalId: own.external_id ?? "",
          annotations: own.output.annotations_count,
          completed: own.status === "completed",
        };
  }
}

/** The run's output with one batch of annotations, in GitHub's words and within its limits. */
function output(report: CheckRunReport, annotations: CheckAnnotation[]) {
  return {
    title: trimDescription(report.title, MAX_TITLE),
    summary: trimDescription(report.summary, MAX_CHECK_OUTPUT_LENGTH),
    ...(report.text === undefined || report.text === ""
      ? {}
      : { text: trimDescription(report.text, MAX_CHECK_OUTPUT_LENGTH) }),
    ...(annotations.length === 0
      ? {}
      : {
          annotations: annotations.map((a) => ({
            path: a.path,
            start_line: a.startLine,
            end_line: a.endLine,
            annotation_level: a.level,
            message: a.message,
            ...(a.title === undefined ? {} : { title: trimDescription(a.title, MAX_ANNOTATION_TITLE) }),
          })),
        }),
  };
}

/** Whether GitHub refused a check-run write for want of the `checks` permission. */
function refusedChecks(error: unknown): boolean {
  if (githubStatus(error) !== 403) return false;
  const failure = githubError(error, "");
  return failure.kind === "permanent" && /resource not accessible by integration/i.test(failure.message);
}
