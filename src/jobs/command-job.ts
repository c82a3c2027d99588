import type { Logger } from "pino";
import type { AccessLevel, ForgeFactory } from "../forge/types.js";
import type { CommandRequest, PlanRequest } from "../domain/requests.js";

/** What a comment-command job needs. */
export interface CommandJobDeps {
  forges: ForgeFactory;
  /** Queues a plan of the change's current head. */
  enqueuePlan(request: PlanRequest): Promise<string>;
  log: Logger;
}

const MAY_PLAN: AccessLevel[] = ["write", "admin"];

/**
 * Runs `/ferry plan [env]` from a change comment: only users with write access may; Ferry
 * acknowledges with a reaction and queues a plan of the change's current head, and answers anyone
 * else with a short refusal.
 */
export async function runCommandJob(request: CommandRequest, deps: CommandJobDeps): Promise<"planned" | "refused" | "closed"> {
  const log = deps.log.child({ delivery: request.deliveryId, repository: request.repo.fullName, change: request.change });
  const forge = await deps.forges(request.repo);
  const access = await forge.accessLevel(request.user);
  // Replies carry a marker naming the comment they answer, so a retried job edits its reply instead of posting another.
  const reply = (text: string) => forge.ensureComment(request.change, replyMarker(request.commentId), `${text}\n\n${replyMarker(request.commentId)}`);
  if (!MAY_PLAN.includes(access)) {
    await reply(`@${request.user} only people with write access to this repository can run \`/ferry plan\`.`);
    log.info({ user: request.user, access }, "comment command refused");
    return "refused";
  }
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

/** The hidden marker of Ferry's reply to comment `commentId`. */
export function replyMarker(commentId: number): string {
  return `<!-- ferry:reply:${commentId} -->`;
}
