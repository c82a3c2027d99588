import type { Logger } from "pino";
import type { AuditEntry } from "../audit/audit-record.js";
import type { AuditTrail } from "../audit/audit-trail.js";
import type { CommandRequest, PlanRequest } from "../domain/requests.js";
import type { Rollout } from "../domain/rollout.js";
import { commandText } from "../forge/comment-command.js";
import type { Forge, MergeResult, MergedChange, RevertChange } from "../forge/types.js";
import { rolloutUrl } from "../report/release-reporter.js";
import {
  alreadyAnswer,
  busyAnswer,
  changeRef,
  notMergedAnswer,
  notReleasedAnswer,
  openedAnswer,
  revertBody,
  revertMarker,
  revertRefusedAnswer,
  revertTitle,
  rollbackFailedAnswer,
} from "../report/rollback-words.js";
import type { RevertStore } from "../revert/revert-store.js";
import type { RolloutStore } from "../rollout/rollout-store.js";
import { failureMessage, gaveUp } from "./gave-up.js";
import type { Attempt } from "./release-deps.js";

/** How long one request holds the right to open a change's revert: longer than the forge calls take. */
const CLAIM_MS = 120_000;

/** What `/ferry rollback` needs besides the forge. */
export interface RollbackDeps {
  /** The change's rollouts: its releases, named in the revert's description. */
  store: RolloutStore;
  /** Which change reverts which. */
  reverts: RevertStore;
  /** Where the revert is recorded. */
  audit: AuditTrail;
  /**
   * Queues the revert's plan as its `opened` webhook does (the same job id, so that webhook, which the
   * forges send for the app's own changes too, queues nothing more).
   */
  enqueuePlan(request: PlanRequest): Promise<string>;
  /** The base of rollout links. */
  publicUrl: string;
  log: Logger;
}

/** How `/ferry rollback` ended: a revert opened (or merged), the forge refusing it, or nothing to do (answered). */
export type RollbackResult = "reverted" | "revert-refused" | "nothing";

/**
 * `/ferry rollback [env] [--merge]` (the user's write access already checked): opens the revert of
 * the merged change through the forge, remembers it, queues its plan, merges it with `--merge` when
 * the forge lets the app, records it, and answers. A change not merged, never released to `env`, or
 * already reverted (by a revert open or merged) gets a short answer instead. A failure that ends the
 * job (a permanent one, or the last attempt's) is recorded and answered with the error before it is rethrown.
 */
export async function requestRollback(
  request: CommandRequest,
  forge: Forge,
  deps: RollbackDeps,
  reply: (text: string) => Promise<void>,
  attempt: Attempt,
): Promise<RollbackResult> {
  const startedAt = Date.now();
  try {
    return await rollBack(request, forge, deps, reply, startedAt);
  } catch (error) {
    if (!gaveUp(error, attempt)) throw error;
    const message = failureMessage(error, attempt);
    deps.log.error({ err: error }, `/ferry rollback failed: ${message}`);
    await deps.audit.record({
      ...entry(request, request.environment ?? "*", startedAt),
      outcome: "failed",
      reason: message,
    });
    await reply(rollbackFailedAnswer(request.user, message)).catch((replyError: unknown) =>
      deps.log.error({ err: replyError }, `the reply to /ferry rollback could not be written either`),
    );
    throw error;
  }
}

/** `requestRollback`'s steps. */
async function rollBack(
  request: CommandRequest,
  forge: Forge,
  deps: RollbackDeps,
  reply: (text: string) => Promise<void>,
  startedAt: number,
): Promise<RollbackResult> {
  const holder = `${request.deliveryId}:${request.commentId}`;
  const change = await forge.mergedChange(request.change);
  if (change === undefined) {
    await reply(notMergedAnswer(request.user, (await forge.changeHead(request.change)).open));
    return "nothing";
  }
  const releases = (await deps.store.ofChange(request.repo, request.change)).filter(
    (r) => request.environment === undefined || r.environment === request.environment,
  );
  if (request.environment !== undefined && releases.length === 0) {
    const all = await deps.store.ofChange(request.repo, request.change);
    await reply(notReleasedAnswer(request.user, request.environment, [...new Set(all.map((r) => r.environment))]));
    return "nothing";
  }
  if (await answeredAlready(request, forge, deps, reply)) return "nothing";
  if (!(await deps.reverts.claim(request.repo, request.change, holder, CLAIM_MS))) {
    await reply(busyAnswer(request.user));
    return "nothing";
  }
  try {
    await forge.react(request.change, request.commentId, "eyes");
    const revert = await forge.revertChange(change, {
      title: revertTitle(change),
      body: revertBody({
        repo: request.repo,
        change,
        releases,
        user: request.user,
        command: commandText(request),
        rolloutPage: (id) => rolloutUrl(deps.publicUrl, id),
      }),
      marker: revertMarker(change.number),
    });
    if ("refused" in revert) {
      await record(deps, request, change, releases, startedAt, { outcome: "failed", reason: revert.refused });
      await reply(revertRefusedAnswer(request.user, request.repo.forge, change, revert.refused));
      return "revert-refused";
    }
    await deps.reverts.remember(request.repo, request.change, {
      number: revert.number,
      url: revert.url,
      by: request.user,
      at: Date.now(),
    });
    await deps.enqueuePlan({
      repo: request.repo,
      change: revert.number,
      headSha: revert.headSha,
      baseBranch: change.baseBranch,
      actor: request.user,
      deliveryId: request.deliveryId,
      fromFork: false,
    });
    const merge = request.merge === true ? await forge.mergeChange(revert.number, revert.headSha) : undefined;
    await record(deps, request, change, releases, startedAt, outcomeOf(request.repo.forge, change, revert, merge));
    await forge.react(request.change, request.commentId, "+1");
    await reply(openedAnswer(request.user, request.repo.forge, revert, merge));
    deps.log.info({ revert: revert.number, created: revert.created, merged: merge?.merged }, "rollback opened");
    return "reverted";
  } finally {
    await deps.reverts.release(request.repo, request.change, holder);
  }
}

/**
 * Answers a second request when the change's revert is open or merged, and says whether it did; a
 * revert closed without merging does not count (people decided against it; a new request opens another).
 */
async function answeredAlready(
  request: CommandRequest,
  forge: Forge,
  deps: RollbackDeps,
  reply: (text: string) => Promise<void>,
): Promise<boolean> {
  const known = await deps.reverts.get(request.repo, request.change);
  if (known === undefined) return false;
  if ((await forge.mergedChange(known.number)) !== undefined) {
    await reply(alreadyAnswer(request.user, request.repo.forge, known, true));
    return true;
  }
  if ((await forge.changeHead(known.number)).open) {
    await reply(alreadyAnswer(request.user, request.repo.forge, known, false));
    return true;
  }
  return false;
}

/** The audit outcome of an opened revert, and of its merge when asked for. */
function outcomeOf(
  forge: Forge["repo"]["forge"],
  change: MergedChange,
  revert: RevertChange,
  merge: MergeResult | undefined,
): Pick<AuditEntry, "outcome" | "reason"> {
  const what = `${changeRef(forge, revert.number)} reverts ${changeRef(forge, change.number)} (${change.title})`;
  if (merge === undefined) return { outcome: "opened", reason: what };
  if (merge.merged) return { outcome: "merged", reason: `${what}, merged as ${merge.sha}` };
  return { outcome: "merge-refused", reason: `${what}; the merge was refused: ${merge.refused}` };
}

/** Records the rollback in each environment it concerns: the one named, else those the change was released to (`*` when none). */
async function record(
  deps: RollbackDeps,
  request: CommandRequest,
  change: MergedChange,
  releases: Rollout[],
  startedAt: number,
  fields: Pick<AuditEntry, "outcome" | "reason">,
): Promise<void> {
  const environments =
    request.environment !== undefined
      ? [request.environment]
      : releases.length > 0
        ? [...new Set(releases.map((r) => r.environment))]
        : ["*"];
  for (const environment of environments)
    await deps.audit.record({ ...entry(request, environment, startedAt), sha: change.mergeSha, ...fields });
}

/** The fields of a `revert` record every outcome shares. */
function entry(
  request: CommandRequest,
  environment: string,
  startedAt: number,
): Omit<AuditEntry, "outcome" | "reason" | "sha"> {
  return {
    action: "revert",
    actor: request.user,
    forge: request.repo.forge,
    repository: request.repo.fullName,
    environment,
    change: request.change,
    command: commandText(request),
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: new Date().toISOString(),
  };
}
