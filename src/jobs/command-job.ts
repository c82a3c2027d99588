import type { Logger } from "pino";
import type { AccessLevel, ForgeFactory } from "../forge/types.js";
import type { CommandRequest, PlanRequest } from "../queue/plan-request.js";

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
  const forge = await deps.forges(request.repo);
  const access = await forge.accessLevel(request.user);
  if (!MAY_PLAN.includes(access)) {
    await forge.createComment(request.change, `@${request.user} only people with write access to this repository can run \`/ferry plan\`.`);
    deps.log.info({ user: request.user, access }, "comment command refused");
    return "refused";
  }
  const head = await forge.changeHead(request.change);
  if (!head.open) {
    await forge.createComment(request.change, `@${request.user} this change is closed; there is nothing to plan.`);
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
