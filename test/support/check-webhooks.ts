import type { CheckRunRecord } from "./github-simulator.js";
import { defaultInstallationId } from "./github-simulator.js";
import { githubPayload, setRepository, type WebhookPayloadFor } from "./webhooks.js";

/** A `check_run` `rerequested` payload. */
export type CheckRunRerequestedPayload = WebhookPayloadFor<"check_run", "rerequested">;

/** A `check_suite` `rerequested` payload. */
export type CheckSuiteRerequestedPayload = WebhookPayloadFor<"check_suite", "rerequested">;

/** A pull request as a check run or suite lists it (the repository's own, whose head is the run's commit). */
export interface CheckPullRequest {
  number: number;
  headRef: string;
  baseRef: string;
}

/** Options for the rerequested payloads. */
export interface RerequestOptions {
  /** Repository "owner/name". */
  repo: string;
  /** The repository's id as the simulator serves it (head and base repos of listed pull requests). */
  repoId: number;
  /** Who clicked "Re-run". */
  sender: string;
  /** The pull requests GitHub lists on the run (none for a fork's head). */
  pullRequests: CheckPullRequest[];
  /** Installation id (default: the simulator's default). */
  installationId?: number;
}

/**
 * "Re-run" on `run`: GitHub's documented `check_run.rerequested` example (from
 * @octokit/webhooks-examples), pointed at the run, its commit, suite and pull requests.
 */
export function checkRunRerequested(run: CheckRunRecord, opts: RerequestOptions): CheckRunRerequestedPayload {
  return githubPayload("check_run", "rerequested", (payload) => {
    setRepository(payload, opts.repo, opts.installationId ?? defaultInstallationId);
    const pulls = pullRequestsJson(opts, run.head_sha);
    Object.assign(payload.check_run, {
      id: run.id,
      name: run.name,
      head_sha: run.head_sha,
      external_id: run.external_id,
      status: run.status,
      conclusion: run.conclusion,
      pull_requests: pulls,
    });
    Object.assign(payload.check_run.check_suite, {
      id: run.suiteId,
      head_sha: run.head_sha,
      after: run.head_sha,
      pull_requests: pulls,
    });
    payload.sender = { ...payload.sender, login: opts.sender, type: "User" };
  });
}

/** "Re-run all checks" on the suite of `sha`: GitHub's documented `check_suite.rerequested` example, pointed at it. */
export function checkSuiteRerequested(
  sha: string,
  suiteId: number,
  opts: RerequestOptions,
): CheckSuiteRerequestedPayload {
  return githubPayload("check_suite", "rerequested", (payload) => {
    setRepository(payload, opts.repo, opts.installationId ?? defaultInstallationId);
    Object.assign(payload.check_suite, {
      id: suiteId,
      head_sha: sha,
      after: sha,
      pull_requests: pullRequestsJson(opts, sha),
    });
    payload.check_suite.head_commit = { ...payload.check_suite.head_commit, id: sha };
    payload.sender = { ...payload.sender, login: opts.sender, type: "User" };
  });
}

/** The pull requests as the Checks API lists them: number, head (at `sha`) and base, both in the repository. */
function pullRequestsJson(opts: RerequestOptions, sha: string) {
  const api = `https://api.github.com/repos/${opts.repo}`;
  const [, name = ""] = opts.repo.split("/");
  const repo = { id: opts.repoId, url: api, name };
  return opts.pullRequests.map((pr) => ({
    id: 900_000 + pr.number,
    number: pr.number,
    url: `${api}/pulls/${pr.number}`,
    head: { ref: pr.headRef, sha, repo },
    base: { ref: pr.baseRef, sha: "", repo },
  }));
}
