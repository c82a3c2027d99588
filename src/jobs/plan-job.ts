import { createHash } from "node:crypto";
import type { RedisClient } from "../queue/redis-connection.js";
import type { Logger } from "pino";
import pLimit from "p-limit";
import type { DeclaredEnvironment, Environment } from "../config/ferry-config.js";
import { rolloutWaves } from "../fleet/rollout-waves.js";
import type { ServerConfig } from "../config/server-config.js";
import { isPermanent } from "../errors.js";
import type { Forge, ForgeFactory } from "../forge/types.js";
import type { ClusterRegistry } from "../kube/cluster-registry.js";
import type { PlanStore } from "../plan/plan-store.js";
import { planUrl } from "../plan/plan-store.js";
import type { EnvironmentPlan } from "../plan/types.js";
import { globMatch, grantFor } from "../policy/policy.js";
import { withLock } from "../queue/environment-lock.js";
import type { PlanRequest } from "../domain/requests.js";
import { Checkouts, type Checkout } from "../release/checkout.js";
import { planEnvironment } from "../release/plan-environment.js";
import type { Renderer } from "../render/types.js";
import { firstLine } from "../report/deploy-report.js";
import { fullPlanText, planComment, planStatusDescription, PLAN_MARKER } from "../report/plan-comment.js";
import type { Attempt } from "./release-deps.js";

/** What a plan job needs, built once by the composition root. */
export interface PlanJobDeps {
  config: ServerConfig;
  forges: ForgeFactory;
  clusters: ClusterRegistry;
  renderer: Renderer;
  plans: PlanStore;
  /** Base URL Ferry is reached at, for plan links. */
  publicUrl: string;
  /** Redis for the per-change lock that keeps an older plan from overwriting a newer one. */
  redis: RedisClient;
  log: Logger;
}

/** How long the fingerprint of a change's last plan is kept, to leave an unchanged re-plan unwritten. */
const FINGERPRINT_TTL_SECONDS = 30 * 24 * 3600;

/** The commit status context of an environment's plans. */
export function planContext(env: string): string {
  return `ferry/plan/${env}`;
}

/**
 * Plans a change's head commit for every environment deployed from its base branch: statuses
 * pending → result on the head commit, and the one sticky plan comment, written only while the
 * planned commit is still the change's head, so an older plan never overwrites a newer one. A
 * re-plan after a release (`refresh`) writes only when the plan came out different from the last.
 */
export async function runPlanJob(
  request: PlanRequest,
  attempt: Attempt,
  deps: PlanJobDeps,
): Promise<EnvironmentPlan[]> {
  const log = deps.log.child({
    delivery: request.deliveryId,
    repository: request.repo.fullName,
    change: request.change,
    sha: request.headSha,
  });
  if (request.fromFork && !deps.config.forkPlans.some((pattern) => globMatch(pattern, request.repo.fullName))) {
    log.info("pull request from a fork: not planned (server config forkPlans does not list the repository)");
    return [];
  }
  const forge = await deps.forges(request.repo);
  const checkouts = new Checkouts(forge);
  try {
    let checkout: Checkout;
    let environments: DeclaredEnvironment[];
    try {
      // A commit whose archive cannot be extracted safely fails here too, and is reported like a bad config.
      checkout = await checkouts.get(request.headSha);
      environments = (await checkout.config()).environments.filter(
        (e) => e.branch === request.baseBranch && (request.environment === undefined || e.name === request.environment),
      );
    } catch (error) {
      if (!isPermanent(error)) throw error;
      await forge.setStatus(request.headSha, {
        context: "ferry/plan",
        state: "failure",
        description: firstLine((error as Error).message),
      });
      await writeComment(forge, request, { ...deps, log }, [], (error as Error).message, undefined);
      return [];
    }
    if (environments.length === 0) return [];
    if (!request.refresh)
      await Promise.all(
        environments.map((env) =>
          forge.setStatus(request.headSha, {
            context: planContext(env.name),
            state: "pending",
            description: "planning",
          }),
        ),
      );
    let plans: EnvironmentPlan[];
    try {
      plans = (await Promise.all(environments.map((env) => planFleet(env, checkout, request, deps)))).flat();
    } catch (error) {
      if (attempt.number < attempt.of) {
        await Promise.all(
          environments.map((env) =>
            forge.setStatus(request.headSha, {
              context: planContext(env.name),
              state: "pending",
              description: `retrying: ${firstLine((error as Error).message)}`,
            }),
          ),
        );
      } else {
        await Promise.all(
          environments.map((env) =>
            forge.setStatus(request.headSha, {
              context: planContext(env.name),
              state: "failure",
              description: firstLine((error as Error).message),
            }),
          ),
        );
      }
      throw error;
    }
    const fingerprint = createHash("sha256").update(JSON.stringify(plans)).digest("hex");
    const fingerprintKey = `ferry:plan-fingerprint:${request.repo.forge}:${request.repo.fullName}:${request.change}`;
    if (request.refresh && (await deps.redis.get(fingerprintKey)) === fingerprint) {
      log.info("re-planned after a release: the plan is unchanged, so its comment and statuses are left as they are");
      return plans;
    }
    const url = planUrl(deps.publicUrl, await deps.plans.save(fullPlanText({ sha: request.headSha, plans })));
    await writeComment(forge, request, { ...deps, log }, plans, undefined, url);
    await deps.redis.set(fingerprintKey, fingerprint, "EX", FINGERPRINT_TTL_SECONDS);
    // One status per environment: a fleet's groups of clusters report their first failure, else the first group.
    for (const env of new Set(plans.map((p) => p.environment))) {
      const groups = plans.filter((p) => p.environment === env);
      const plan = groups.find((p) => p.error !== undefined) ?? groups[0];
      if (!plan) continue;
      const more = groups.length > 1 ? ` (${groups.length} distinct plans across its clusters)` : "";
      await forge.setStatus(request.headSha, {
        context: planContext(env),
        state: plan.error ? "failure" : "success",
        description: `${planStatusDescription(plan)}${more}`,
        targetUrl: url,
      });
    }
    log.info({ environments: plans.map((p) => [p.environment, p.counts]) }, "planned");
    return plans;
  } finally {
    await checkouts.dispose();
  }
}

/**
 * Plans an environment on each of its clusters (a few at a time) and merges clusters whose plans
 * are identical: a fleet's plan shows each distinct diff once, with the clusters it applies to, and
 * a cluster apart only where its live state makes its diff differ.
 */
async function planFleet(
  declared: DeclaredEnvironment,
  checkout: Checkout,
  request: PlanRequest,
  deps: PlanJobDeps,
): Promise<EnvironmentPlan[]> {
  let targets: Environment[];
  try {
    targets = [...rolloutWaves(declared, deps.config).targets.values()];
  } catch (error) {
    if (!isPermanent(error)) throw error;
    return [
      {
        environment: declared.name,
        cluster: declared.cluster ?? "",
        sha: request.headSha,
        objects: [],
        counts: { create: 0, update: 0, delete: 0, unchanged: 0 },
        error: (error as Error).message,
      },
    ];
  }
  const limit = pLimit(8);
  const plans = await Promise.all(targets.map((env) => limit(() => planOne(env, checkout, request, deps))));
  const groups = new Map<string, { plan: EnvironmentPlan; clusters: string[] }>();
  for (const plan of plans) {
    const key = JSON.stringify([plan.objects, plan.counts, plan.error ?? null]);
    const group = groups.get(key);
    if (group) group.clusters.push(plan.cluster);
    else groups.set(key, { plan, clusters: [plan.cluster] });
  }
  return [...groups.values()].map(({ plan, clusters }) => ({ ...plan, cluster: clusterList(clusters) }));
}

/** Cluster names as a plan heading shows them: the first five, then how many more. */
function clusterList(clusters: string[]): string {
  return clusters.length <= 5
    ? clusters.join(", ")
    : `${clusters.slice(0, 5).join(", ")} and ${clusters.length - 5} more`;
}

async function planOne(
  env: Environment,
  checkout: Checkout,
  request: PlanRequest,
  deps: PlanJobDeps,
): Promise<EnvironmentPlan> {
  try {
    const grant = grantFor(deps.config, request.repo.fullName, env);
    const client = await deps.clusters.client(env.cluster);
    const rendered = await deps.renderer.render(checkout.root, env);
    return await planEnvironment({
      client,
      repository: request.repo.fullName,
      env,
      grant,
      rendered,
      sha: request.headSha,
    });
  } catch (error) {
    if (!isPermanent(error)) throw error;
    return {
      environment: env.name,
      cluster: env.cluster,
      sha: request.headSha,
      objects: [],
      counts: { create: 0, update: 0, delete: 0, unchanged: 0 },
      error: (error as Error).message,
    };
  }
}

/** Edits the sticky comment, under a per-change lock and only while the planned commit is still the change's head. */
async function writeComment(
  forge: Forge,
  request: PlanRequest,
  deps: PlanJobDeps,
  plans: EnvironmentPlan[],
  configError: string | undefined,
  url: string | undefined,
): Promise<void> {
  const lockKey = `ferry:lock:plan-comment:${request.repo.forge}:${request.repo.fullName}:${request.change}`;
  await withLock(deps.redis, lockKey, async () => {
    const head = await forge.changeHead(request.change);
    if (head.sha !== request.headSha) {
      deps.log.info({ head: head.sha }, "a newer commit is the head: not overwriting its plan comment");
      return;
    }
    const body = planComment({
      sha: request.headSha,
      plans,
      fullPlanUrl: url,
      maxLength: forge.maxCommentLength,
      note: configError,
      plannedAt: new Date(),
    });
    await forge.ensureComment(request.change, PLAN_MARKER, body);
  });
}
