import type { AuditEntry } from "../audit/audit-record.js";
import { durationMs } from "../config/duration.js";
import type { CommandRequest } from "../domain/requests.js";
import type { AccessLevel, Forge } from "../forge/types.js";
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

/** The longest ad-hoc freeze. */
const MAX_FREEZE_MS = 30 * 24 * 3600_000;

/** `2026-12-07 18:00 UTC`. */
const when = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;

/**
 * `/ferry freeze <env> <duration> <reason>` (write access): releases of the environment do not start
 * until the freeze ends; `/ferry unfreeze <env>`: ends it now and releases what it held back;
 * `/ferry deploy <env> --override-freeze` (admin): releases the head of the change's base branch to
 * the environment, frozen or not. Each is recorded in the audit trail and answered.
 */
export async function freezeCommand(request: CommandRequest, ctx: FreezeCommandContext): Promise<CommandResult> {
  const env = request.environment;
  const usage = {
    freeze: "`/ferry freeze <environment> <duration> <reason>`, e.g. `/ferry freeze production 2h incident 4711`",
    unfreeze: "`/ferry unfreeze <environment>`",
    deploy: "`/ferry deploy <environment> --override-freeze`",
  }[request.command as "freeze" | "unfreeze" | "deploy"];
  if (env === undefined) {
    await ctx.reply(`@${request.user} name the environment: ${usage}.`);
    return "nothing";
  }
  if (request.command === "freeze") return freeze(request, env, usage, ctx);
  if (request.command === "unfreeze") return unfreeze(request, env, ctx);
  return override(request, env, usage, ctx);
}

async function freeze(
  request: CommandRequest,
  env: string,
  usage: string,
  ctx: FreezeCommandContext,
): Promise<CommandResult> {
  const [duration = "", ...words] = (request.args ?? "").split(/\s+/);
  const ms = /^(?=\d)(\d+d)?(\d+h)?(\d+m)?(\d+s)?$/.test(duration) ? durationMs(duration) : 0;
  const reason = words.join(" ").trim();
  if (ms === 0 || ms > MAX_FREEZE_MS || reason === "") {
    await ctx.reply(
      `@${request.user} ${ms > MAX_FREEZE_MS ? "a freeze lasts at most 30d" : "give a duration and a reason"}: ${usage}.`,
    );
    return "nothing";
  }
  const until = Date.now() + ms;
  await ctx.deps.freezes.freeze(request.repo, env, { until, reason, by: request.user });
  await ctx.record({
    action: "freeze",
    environment: env,
    outcome: "frozen",
    reason: `until ${when(until)}: ${reason}`,
  });
  await ctx.forge.react(request.change, request.commentId, "+1");
  await ctx.reply(
    `@${request.user} froze ${env} until ${when(until)}: ${reason}. Releases of ${env} wait until then (plans still run); \`/ferry unfreeze ${env}\` ends the freeze now.`,
  );
  return "frozen";
}

async function unfreeze(request: CommandRequest, env: string, ctx: FreezeCommandContext): Promise<CommandResult> {
  const ended = await ctx.deps.freezes.unfreeze(request.repo, env);
  if (ended === undefined) {
    await ctx.reply(
      `@${request.user} ${env} has no freeze made with \`/ferry freeze\` in force (freeze windows in configuration end on their own).`,
    );
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
  await ctx.reply(
    `@${request.user} unfroze ${env}${held.length > 0 ? `: the releases it held back start now (unless a freeze window still holds them)` : ""}.`,
  );
  return "unfrozen";
}

async function override(
  request: CommandRequest,
  env: string,
  usage: string,
  ctx: FreezeCommandContext,
): Promise<CommandResult> {
  if (request.args !== "--override-freeze") {
    await ctx.reply(`@${request.user} \`/ferry deploy\` only overrides a freeze: ${usage}. Merging deploys otherwise.`);
    return "nothing";
  }
  if (ctx.access !== "admin") {
    await ctx.record({
      action: "refused-command",
      environment: env,
      outcome: "refused",
      reason: `${request.user} has ${ctx.access} access; overriding a freeze needs admin access`,
    });
    await ctx.reply(`@${request.user} only admins of this repository can override a freeze.`);
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
  await ctx.reply(
    `@${request.user} deploying ${baseBranch} at ${sha.slice(0, 7)} to ${env}, overriding any freeze (recorded in the audit trail).`,
  );
  return "deployed";
}
