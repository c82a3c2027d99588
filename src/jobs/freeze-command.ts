import type { AuditEntry } from "../audit/audit-record.js";
import { durationMs, durationSchema } from "../config/duration.js";
import type { CommandRequest } from "../domain/requests.js";
import type { AccessLevel, Forge } from "../forge/types.js";
import { freezeReplies, freezeTime, type FreezeCommandName } from "../report/freeze-words.js";
import type { CommandJobDeps, CommandResult } from "./command-job.js";

/** What a freeze command works with, besides the request. */
export interface FreezeCommandContext {
  forge: Forge;
  deps: CommandJobDeps;
  reply(text: string): Promise<void>;
  /** The commenter's access (write or admin: others were refused before). */
  access: AccessLevel;
  /** Writes the command's audit record; `fields` say what it did. */
  record(fields: Pick<AuditEntry, "action" | "environment" | "outcome" | "reason" | "sha">): Promise<void>;
}

/** An ad-hoc freeze's duration: at most 30 days. */
const FREEZE_DURATION = durationSchema("30d");

/**
 * `/ferry freeze <env> <duration> <reason>` (write access): releases of the environment do not start
 * until the freeze ends; `/ferry unfreeze <env>`: ends it now and releases what it held back;
 * `/ferry deploy <env> --override-freeze` (admin): releases the head of the change's base branch to
 * the environment, frozen or not. Each is recorded in the audit trail and answered.
 */
export async function freezeCommand(request: CommandRequest, ctx: FreezeCommandContext): Promise<CommandResult> {
  const env = request.environment;
  if (env === undefined) {
    await ctx.reply(freezeReplies.noEnvironment(request.user, request.command as FreezeCommandName));
    return "nothing";
  }
  if (request.command === "freeze") return freeze(request, env, ctx);
  if (request.command === "unfreeze") return unfreeze(request, env, ctx);
  return override(request, env, ctx);
}

async function freeze(request: CommandRequest, env: string, ctx: FreezeCommandContext): Promise<CommandResult> {
  const [duration = "", ...words] = (request.args ?? "").split(/\s+/);
  const reason = words.join(" ").trim();
  const checked = FREEZE_DURATION.safeParse(duration);
  if (!checked.success || reason === "") {
    const problem = checked.success
      ? "give a reason"
      : `the duration ${checked.error.issues[0]?.message ?? "is wrong"}`;
    await ctx.reply(freezeReplies.badFreeze(request.user, problem));
    return "nothing";
  }
  const until = Date.now() + durationMs(duration);
  await ctx.deps.freezes.freeze(request.repo, env, { until, reason, by: request.user });
  await ctx.record({
    action: "freeze",
    environment: env,
    outcome: "frozen",
    reason: `until ${freezeTime(until)}: ${reason}`,
  });
  await ctx.forge.react(request.change, request.commentId, "+1");
  await ctx.reply(freezeReplies.froze(request.user, env, until, reason));
  return "frozen";
}

async function unfreeze(request: CommandRequest, env: string, ctx: FreezeCommandContext): Promise<CommandResult> {
  const ended = await ctx.deps.freezes.unfreeze(request.repo, env);
  if (ended === undefined) {
    await ctx.reply(freezeReplies.notFrozen(request.user, env));
    return "nothing";
  }
  const held = await ctx.deps.freezes.takeHeldBack(request.repo, env);
  await ctx.deps.releaseHeld(held);
  await ctx.record({
    action: "unfreeze",
    environment: env,
    outcome: "unfrozen",
    reason: `the freeze by @${ended.by} (${ended.reason}) ended early`,
  });
  await ctx.forge.react(request.change, request.commentId, "+1");
  await ctx.reply(freezeReplies.unfroze(request.user, env, held.length > 0));
  return "unfrozen";
}

async function override(request: CommandRequest, env: string, ctx: FreezeCommandContext): Promise<CommandResult> {
  if (request.args !== "--override-freeze") {
    await ctx.reply(freezeReplies.deployNeedsOverride(request.user));
    return "nothing";
  }
  if (ctx.access !== "admin") {
    await ctx.record({
      action: "refused-command",
      environment: env,
      outcome: "refused",
      reason: `${request.user} has ${ctx.access} access; overriding a freeze needs admin access`,
    });
    await ctx.reply(freezeReplies.overrideRefused(request.user));
    return "refused";
  }
  const { baseBranch } = await ctx.forge.changeHead(request.change);
  const sha = await ctx.forge.branchHead(baseBranch);
  await ctx.deps.enqueueOverride(
    {
      repo: request.repo,
      branch: baseBranch,
      sha,
      actor: request.user,
      deliveryId: request.deliveryId,
      overrideFreeze: [env],
    },
    request.commentId,
  );
  await ctx.record({
    action: "freeze-override",
    environment: env,
    sha,
    outcome: "deploying",
    reason: `${baseBranch} at ${sha.slice(0, 7)} released to ${env} whatever freeze is in force`,
  });
  await ctx.forge.react(request.change, request.commentId, "+1");
  await ctx.reply(freezeReplies.overriding(request.user, env, baseBranch, sha));
  return "deployed";
}
