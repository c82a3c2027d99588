import type { Logger } from "pino";
import type { AuditEntry } from "../audit/audit-record.js";
import type { AuditTrail } from "../audit/audit-trail.js";
import type { CommandRequest, DeployRequest, PlanRequest } from "../domain/requests.js";
import type { FreezeStore } from "../freeze/freeze-store.js";
import { freezeCommand } from "./freeze-command.js";
import { FINAL_ROLLOUT_STATES, type Rollout } from "../domain/rollout.js";
import type { AccessLevel, Forge, ForgeFactory } from "../forge/types.js";
import { healAnswer, type HealAnswer } from "../report/drift-status.js";
import type { Metrics } from "../metrics/metrics.js";
import type { RolloutStore } from "../rollout/rollout-store.js";
import { commandText } from "../forge/comment-command.js";
import { failureMessage, gaveUp } from "./gave-up.js";
import { requestRollback, type RollbackDeps } from "./rollback-command.js";
import type { Attempt } from "./release-deps.js";

/** What a comment-command job needs. */
export interface CommandJobDeps {
  forges: ForgeFactory;
  /** Queues a plan of the change's current head. */
  enqueuePlan(request: PlanRequest): Promise<string>;
  /** The rollouts, for `/ferry continue` and `/ferry abort`. */
  store: RolloutStore;
  /** Wakes a rollout's job parked at a gate, so it acts on a command at once. */
  wakeRollout(rolloutId: string): Promise<void>;
  /** Heals, once, each cluster of the environments `branch` deploys (or only `environment`); an answer per cluster. */
  heal(branch: string, environment: string | undefined): Promise<HealAnswer[]>;
  log: Logger;
  /** Counts replies the forge refused. */
  metrics?: Metrics;
  /** Where approvals, aborts and refused commands are recorded. */
  audit: AuditTrail;
  /** Ad-hoc freezes, and the deploys they hold back. */
  freezes: FreezeStore;
  /** Runs held-back deploys now (an unfreeze). */
  releaseHeld(jobIds: string[]): Promise<void>;
  /** Queues an admin's deploy that overrides a freeze; one per comment. */
  enqueueOverride(request: DeployRequest, commentId: number): Promise<string>;
  /** What `/ferry rollback` needs: reverts remembered, the revert's plan queued. */
  rollback: RollbackDeps;
}

const MAY_COMMAND: AccessLevel[] = ["write", "admin"];

/** How a command ended. */
export type CommandResult =
  | "planned"
  | "continued"
  | "aborted"
  | "healed"
  | "frozen"
  | "unfrozen"
  | "deployed"
  | "reverted"
  | "revert-refused"
  | "refused"
  | "closed"
  | "nothing";

/**
 * Runs a command from a change comment; only users with write access may. `/ferry plan [env]`
 * queues a plan of the change's current head; `/ferry continue [env]` ends the pause or gives the
 * approval a rollout of the change waits for; `/ferry abort [env]` halts it (clusters releasing
 * finish; no further cluster is touched); `/ferry heal [env]` re-applies, once, what the last release
 * of each environment the change's base branch deploys applied, undoing drift whatever
 * `reconcile.drift` says; `/ferry rollback [env] [--merge]` opens the revert of the merged change
 * (see `requestRollback`). Each is acknowledged with a reaction or a short answer.
 */
export async function runCommandJob(
  request: CommandRequest,
  deps: CommandJobDeps,
  attempt: Attempt = { number: 1, of: 1 },
): Promise<CommandResult> {
  const startedAt = Date.now();
  const log = deps.log.child({
    delivery: request.deliveryId,
    repository: request.repo.fullName,
    change: request.change,
    user: request.user,
    command: request.command,
  });
  let forge: Forge;
  try {
    forge = await deps.forges(request.repo);
  } catch (error) {
    if (gaveUp(error, attempt))
      log.error(
        { err: error },
        `/ferry ${request.command} not run, and no reply can be written: ${failureMessage(error, attempt)}`,
      );
    throw error;
  }
  // Replies carry a marker naming the comment they answer, so a retried job edits its reply instead of posting another.
  const reply = (text: string) =>
    forge.ensureComment(request.change, replyMarker(request.commentId), `${text}\n\n${replyMarker(request.commentId)}`);
  let access: AccessLevel;
  try {
    access = await forge.accessLevel(request.user);
  } catch (error) {
    if (gaveUp(error, attempt)) {
      await deps.audit.record(
        commandEntry(request, startedAt, {
          action: "refused-command",
          environment: request.environment ?? "*",
          outcome: "refused",
          reason: `could not check ${request.user}'s access: ${failureMessage(error, attempt)}`,
        }),
      );
      await accessUnknown(request, error, attempt, reply, log, deps);
    }
    throw error;
  }
  if (!MAY_COMMAND.includes(access)) {
    await deps.audit.record(
      commandEntry(request, startedAt, {
        action: "refused-command",
        environment: request.environment ?? "*",
        outcome: "refused",
        reason: `${request.user} has ${access} access; the command needs write access`,
      }),
    );
    await reply(
      `@${request.user} only people with write access to this repository can run \`/ferry ${request.command}\`.`,
    );
    log.info({ user: request.user, access, command: request.command }, "comment command refused");
    return "refused";
  }
  if (request.command === "plan") return plan(request, forge, deps, reply);
  if (request.command === "heal") return heal(request, forge, deps, reply);
  if (request.command === "rollback") return requestRollback(request, forge, deps.rollback, reply, attempt);
  if (request.command === "freeze" || request.command === "unfreeze" || request.command === "deploy")
    return freezeCommand(request, {
      forge,
      deps,
      reply,
      access,
      record: (fields) => deps.audit.record(commandEntry(request, startedAt, fields)),
    });
  return steerRollout(request, forge, deps, reply, startedAt);
}

/** The forge would not say what access the user has: the command is not run, and the reply and the log say why, in the forge's words. */
async function accessUnknown(
  request: CommandRequest,
  error: unknown,
  attempt: Attempt,
  reply: (text: string) => Promise<void>,
  log: Logger,
  deps: CommandJobDeps,
): Promise<void> {
  const message = failureMessage(error, attempt);
  log.error({ err: error }, `/ferry ${request.command} not run: could not check ${request.user}'s access: ${message}`);
  await reply(
    `@${request.user} Ferry could not check your access to this repository, so \`/ferry ${request.command}\` was not run:\n\n\`\`\`\n${message}\n\`\`\``,
  ).catch((replyError: unknown) => {
    log.error(
      { err: replyError },
      `the reply to /ferry ${request.command} could not be written either: ${(replyError as Error).message}`,
    );
    deps.metrics?.reportFailed(request.repo.forge, "comment");
  });
}

async function plan(
  request: CommandRequest,
  forge: Forge,
  deps: CommandJobDeps,
  reply: (text: string) => Promise<void>,
): Promise<CommandResult> {
  const head = await forge.changeHead(request.change);
  if (!head.open) {
    await reply(`@${request.user} this change is closed; there is nothing to plan.`);
    return "closed";
  }
  await forge.react(request.change, request.commentId, "eyes");
  await deps.enqueuePlan({
    repo: request.repo,
    change: request.change,
    headSha: head.sha,
    baseBranch: head.baseBranch,
    actor: request.user,
    deliveryId: request.deliveryId,
    fromFork: head.fromFork,
    ...(request.environment ? { environment: request.environment } : {}),
  });
  return "planned";
}

/** `/ferry heal [env]`: heal the environments of the change's base branch, and say what was restored. */
async function heal(
  request: CommandRequest,
  forge: Forge,
  deps: CommandJobDeps,
  reply: (text: string) => Promise<void>,
): Promise<CommandResult> {
  const { baseBranch } = await forge.changeHead(request.change);
  await forge.react(request.change, request.commentId, "eyes");
  const answers = await deps.heal(baseBranch, request.environment);
  if (answers.length === 0) {
    const which = request.environment === undefined ? "no environment" : `no environment ${request.environment}`;
    await reply(
      `@${request.user} ${which} deployed from ${baseBranch} has been released yet; there is nothing to heal.`,
    );
    return "nothing";
  }
  await reply(healAnswer(request.user, answers));
  return "healed";
}

/** `/ferry continue` and `/ferry abort`: find the change's rollout of the named (or only running) environment and act on it. */
async function steerRollout(
  request: CommandRequest,
  forge: Forge,
  deps: CommandJobDeps,
  reply: (text: string) => Promise<void>,
  startedAt: number,
): Promise<CommandResult> {
  const verb = `/ferry ${request.command}`;
  const running = (await deps.store.ofChange(request.repo, request.change)).filter(
    (r) => !FINAL_ROLLOUT_STATES.has(r.state),
  );
  const candidates =
    request.environment === undefined ? running : running.filter((r) => r.environment === request.environment);
  const where = request.environment === undefined ? "" : ` of ${request.environment}`;
  if (candidates.length === 0) {
    await reply(
      `@${request.user} no rollout${where} of this change is in progress; there is nothing to ${request.command}.`,
    );
    return "nothing";
  }
  if (candidates.length > 1) {
    await reply(
      `@${request.user} several rollouts of this change are in progress (${candidates.map((r) => r.environment).join(", ")}): name one, e.g. \`${verb} ${candidates[0]?.environment ?? ""}\`.`,
    );
    return "nothing";
  }
  const rollout = candidates[0] as Rollout;
  const ofRollout = { environment: rollout.environment, sha: rollout.sha, rollout: rollout.id };
  if (request.command === "abort") {
    await deps.store.requestAbort(rollout.id, request.user);
    await deps.wakeRollout(rollout.id);
    await deps.audit.record(
      commandEntry(request, startedAt, {
        action: "abort",
        ...ofRollout,
        outcome: "aborted",
        reason: `rollout ${rollout.state} at wave ${rollout.wave + 1}/${rollout.waves.length}: no further cluster is touched`,
      }),
    );
    await forge.react(request.change, request.commentId, "+1");
    await reply(
      `@${request.user} aborting the rollout of ${rollout.environment}: clusters releasing now finish; no further cluster is touched.`,
    );
    return "aborted";
  }
  if (rollout.state !== "paused" && rollout.state !== "awaiting-approval") {
    await reply(
      `@${request.user} the rollout of ${rollout.environment} is ${rollout.state}, not paused or waiting for approval; there is nothing to continue.`,
    );
    return "nothing";
  }
  await deps.store.requestContinue(rollout.id, rollout.wave, request.user);
  await deps.wakeRollout(rollout.id);
  const next = rollout.waves[rollout.wave + 1];
  await deps.audit.record(
    commandEntry(request, startedAt, {
      action: "approval",
      ...ofRollout,
      outcome: rollout.state === "paused" ? "pause-ended" : "approved",
      reason: `wave ${rollout.wave + 2}/${rollout.waves.length}${next ? ` (${next.name})` : ""} starts`,
    }),
  );
  await forge.react(request.change, request.commentId, "+1");
  await reply(
    `@${request.user} continuing the rollout of ${rollout.environment}: wave ${rollout.wave + 2}/${rollout.waves.length}${next ? ` (${next.name})` : ""} starts now.`,
  );
  return "continued";
}

/** An audit record of a command: who wrote it, on which change, as written; `fields` say what it did. */
function commandEntry(
  request: CommandRequest,
  startedAt: number,
  fields: Pick<AuditEntry, "action" | "environment" | "outcome" | "reason" | "sha" | "rollout">,
): AuditEntry {
  return {
    actor: request.user,
    forge: request.repo.forge,
    repository: request.repo.fullName,
    change: request.change,
    command: commandText(request),
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: new Date().toISOString(),
    ...fields,
  };
}

/** The hidden marker of Ferry's reply to comment `commentId`. */
export function replyMarker(commentId: number): string {
  return `<!-- ferry:reply:${commentId} -->`;
}
