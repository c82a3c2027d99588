import type { Logger } from "pino";
import type { PlanRequest } from "../domain/requests.js";
import { isPermanent, permanent } from "../errors.js";
import type { Metrics } from "../metrics/metrics.js";
import type { EnvironmentPlan } from "../plan/types.js";
import type { HandedPlanResult, HandoverTiming, PlanHandover } from "../queue/plan-handover.js";
import type { RedisClient } from "../queue/redis-connection.js";
import { watchTargets } from "../watch/drift-watch.js";
import { leaseHolders } from "../watch/watch-supervisor.js";
import type { WatchRegistry } from "../watch/watch-registry.js";
import type { Attempt } from "./release-deps.js";

/** What routing a plan to the worker with its watch caches needs. */
export interface PlanRouteDeps {
  redis: RedisClient;
  registry: WatchRegistry;
  handover: PlanHandover;
  /** This worker process, as watch leases name their holder. */
  owner: string;
  log: Logger;
  metrics?: Metrics;
  timing?: HandoverTiming;
}

/**
 * The worker that should plan `request`: of the watches of its environments (every (environment,
 * cluster) of its repository's base branch the watch registry knows, or the one environment asked
 * for), the process holding the most leases; undefined (plan here) when none is held, or when this
 * process holds as many as any other.
 */
export async function planHolder(request: PlanRequest, deps: PlanRouteDeps): Promise<string | undefined> {
  const watched = (await deps.registry.all()).filter(
    ({ data }) =>
      data.repo.forge === request.repo.forge &&
      data.repo.fullName === request.repo.fullName &&
      data.branch === request.baseBranch &&
      (request.environment === undefined || data.environment === request.environment),
  );
  if (watched.length === 0) return undefined;
  const { targets } = watchTargets(watched);
  const held = new Map<string, number>();
  for (const owner of (
    await leaseHolders(
      deps.redis,
      targets.map((t) => t.id),
    )
  ).values())
    if (owner !== undefined) held.set(owner, (held.get(owner) ?? 0) + 1);
  const mine = held.get(deps.owner) ?? 0;
  let best: string | undefined;
  let most = mine;
  for (const [owner, count] of held) if (count > most) [best, most] = [owner, count];
  return best;
}

/**
 * Runs a plan job where its collections are cached: hands it to the worker {@link planHolder}
 * names, as job `handover-<jobId>`, and returns what that worker planned; plans it here
 * (`planHere`, today's path) when no other worker holds its watches, or when the holder did not
 * take it in time, stopped, or failed — a dead holder never loses a plan, and each plan's result is
 * reported once, by whichever of the two ran it to its end.
 */
export async function routePlan(
  request: PlanRequest,
  attempt: Attempt,
  jobId: string,
  deps: PlanRouteDeps,
  planHere: () => Promise<EnvironmentPlan[]>,
): Promise<EnvironmentPlan[]> {
  const holder = await planHolder(request, deps);
  if (holder === undefined) return planHere();
  const log = deps.log.child({ holder, change: request.change, sha: request.headSha });
  const outcome = await deps.handover.handOver(holder, `handover-${jobId}`, { request, attempt }, deps.timing);
  switch (outcome.kind) {
    case "planned":
      deps.metrics?.planHandedOver();
      log.info("planned by the worker holding its watch caches");
      return outcome.plans;
    case "refused":
      // The holder reported the failure on the forge: planning again would report it twice.
      deps.metrics?.planHandedOver();
      throw permanent(outcome.error);
    default:
      deps.metrics?.planHandoverFallback(outcome.kind);
      log.warn({ why: outcome.why }, "the plan handed to the worker holding its watch caches comes back: planned here");
      return planHere();
  }
}

/** The attempt a holder plans a handed plan as: never the last, so a failure there leaves the result to the fallback. */
export function holderAttempt(attempt: Attempt): Attempt {
  return { number: attempt.number, of: Math.max(attempt.of, attempt.number + 1) };
}

/** Runs a handed plan on the holder, turning its failure into a result the handing worker reads. */
export async function runHandedPlan(plan: () => Promise<EnvironmentPlan[]>): Promise<HandedPlanResult> {
  try {
    return { plans: await plan() };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error), permanent: isPermanent(error) };
  }
}
