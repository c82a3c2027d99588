import { createHash } from "node:crypto";
import type { AgentQueues } from "../agent/agent-queues.js";
import { planThroughAgent } from "../agent/plan-through-agent.js";
import { durationMs } from "../config/duration.js";
import type { RedisClient } from "../queue/redis-connection.js";
import type { Logger } from "pino";
import pLimit from "p-limit";
import type { DeclaredEnvironment, Environment } from "../config/ferry-config.js";
import { rolloutWaves } from "../fleet/rollout-waves.js";
import type { ServerConfig } from "../config/server-config.js";
import { isPermanent, permanent } from "../errors.js";
import type { CommitStatus, Forge, ForgeFactory } from "../forge/types.js";
import type { ClusterRegistry } from "../kube/cluster-registry.js";
import type { KubeClient } from "../kube/kube-client.js";
import type { LiveReader } from "../kube/live-state.js";
import type { Metrics } from "../metrics/metrics.js";
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
import { errorAnnotations, type ReadSource } from "../report/error-annotations.js";
import { failedCheck, planCheck, runningCheck, type CheckContent } from "../report/plan-check.js";
import { fullPlanText, planComment, planStatusDescription, PLAN_MARKER } from "../report/plan-comment.js";
import { failureMessage, gaveUp } from "./gave-up.js";
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
  /** Counts plans that could not be made and statuses the forge refused. */
  metrics?: Metrics;
  /** Where plans read a cluster's live objects: this process's watch caches, the API server behind them (default the API server). */
  liveReader?(cluster: string, client: KubeClient): LiveReader;
  /** The queues of agent clusters' agents, which plan those clusters. */
  agents?: AgentQueues;
}

/** How long the fingerprint of a change's last plan is kept, to leave an unchanged re-plan unwritten. */
const FINGERPRINT_TTL_SECONDS = 30 * 24 * 3600;

/** The commit status context of an environment's plans. */
export function planContext(env: string): string {
  return `ferry/plan/${env}`;
}

/** One plan result as both forms it can take: a check run, or (no checks on the forge) a commit status. */
interface PlanResult {
  status: CommitStatus;
  check: CheckContent;
}

/**
 * Plans a change's head commit for every environment deployed from its base branch: check runs
 * (GitHub) or statuses (GitLab, and GitHub installations without `checks: write`) in progress →
 * result on the head commit, and the one sticky plan comment, written only while the
 * planned commit is still the change's head, so an older plan never overwrites a newer one. A
 * re-plan after a release (`refresh`) writes only when the plan came out different from the last.
 *
 * A plan that cannot do its work (the forge refuses a read, or a failure outlasts the retries)
 * fails its statuses with the reason in the forge's words, logs it and counts a failed plan.
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
  let forge: Forge;
  try {
    forge = await deps.forges(request.repo);
  } catch (error) {
    // Without a forge there is nowhere to report: the log and the metric are the trace.
    if (gaveUp(error, attempt)) {
      log.error({ err: error }, `plan failed, and no status can be set: ${failureMessage(error, attempt)}`);
      deps.metrics?.notPlanned();
    }
    throw error;
  }
  /** Reports results on the head, logging and counting each one the forge does not take (the job is failing already). */
  const failStatuses = (results: PlanResult[]) =>
    Promise.all(
      results.map(({ status, check }) =>
        tell(forge, request, status, check).catch((error: unknown) => {
          log.error(
            { err: error, context: status.context, state: status.state },
            `the ${status.context} status could not be set: ${(error as Error).message}`,
          );
          deps.metrics?.reportFailed(request.repo.forge, "status");
        }),
      ),
    );
  const checkouts = new Checkouts(forge);
  try {
    let checkout: Checkout;
    let environments: DeclaredEnvironment[];
    try {
      // A commit whose archive cannot be fetched (the forge refused it) or extracted safely fails here too, and is reported like a bad config.
      checkout = await checkouts.get(request.headSha);
      environments = (await checkout.config()).environments.filter(
        (e) => e.branch === request.baseBranch && (request.environment === undefined || e.name === request.environment),
      );
    } catch (error) {
      if (!isPermanent(error)) throw error;
      const message = (error as Error).message;
      log.error({ err: error }, `plan failed: ${message}`);
      deps.metrics?.notPlanned();
      const title = firstLine(message);
      const annotations = await errorAnnotations(message, () => Promise.resolve(undefined));
      await failStatuses([
        {
          status: { context: "ferry/plan", state: "failure", description: title },
          check: failedCheck({ title, error: message, annotations }),
        },
      ]);
      await writeComment(forge, request, { ...deps, log }, [], message, undefined).catch((commentError: unknown) => {
        if (!isPermanent(commentError)) throw commentError;
        log.error({ err: commentError }, `the plan comment could not be written: ${(commentError as Error).message}`);
        deps.metrics?.reportFailed(request.repo.forge, "comment");
      });
      return [];
    }
    if (environments.length === 0) return [];
    const names = environments.map((env) => env.name);
    try {
      if (!request.refresh)
        await Promise.all(
          names.map((env) =>
            tell(
              forge,
              request,
              { context: planContext(env), state: "pending", description: "planning" },
              runningCheck("planning"),
            ),
          ),
        );
      const plans = (await Promise.all(environments.map((env) => planFleet(env, checkout, request, deps)))).flat();
      const fingerprint = planFingerprint(request, plans);
      if (request.refresh && (await deps.redis.get(fingerprint.key)) === fingerprint.value) {
        log.info("re-planned after a release: the plan is unchanged, so its comment and statuses are left as they are");
        return plans;
      }
      await report(forge, request, { ...deps, log }, plans, fingerprint, (path) => checkout.source(path));
      return plans;
    } catch (error) {
      const message = failureMessage(error, attempt);
      if (!gaveUp(error, attempt)) {
        const retrying = `retrying: ${firstLine(message)}`;
        await failStatuses(
          names.map((env) => ({
            status: { context: planContext(env), state: "pending", description: retrying },
            check: runningCheck(retrying),
          })),
        );
        throw error;
      }
      log.error({ err: error, environments: names }, `plan failed: ${message}`);
      for (const env of names) deps.metrics?.notPlanned(env);
      await failStatuses(
        names.map((env) => ({
          status: { context: planContext(env), state: "failure", description: firstLine(message) },
          check: failedCheck({ title: firstLine(message), error: message, annotations: [] }),
        })),
      );
      throw error;
    }
  } finally {
    await checkouts.dispose();
  }
}

/** Where the fingerprint of a change's last plan is kept, and this plan's. */
function planFingerprint(request: PlanRequest, plans: EnvironmentPlan[]): { key: string; value: string } {
  return {
    key: `ferry:plan-fingerprint:${request.repo.forge}:${request.repo.fullName}:${request.change}`,
    value: createHash("sha256").update(JSON.stringify(plans)).digest("hex"),
  };
}

/**
 * One result on the head: the check run of the same name where the forge shows checks (this job's
 * own, found again by its delivery id when the job is retried), else the commit status.
 */
async function tell(forge: Forge, request: PlanRequest, status: CommitStatus, check: CheckContent): Promise<void> {
  const shown = await forge.ensureCheckRun(request.headSha, {
    ...check,
    name: status.context,
    externalId: request.deliveryId,
  });
  if (!shown) await forge.setStatus(request.headSha, status);
}

/**
 * The plans, told: the full plan stored, the sticky comment (and the plan's fingerprint), and one
 * result per environment (a check run with annotations on the lines its errors name, or a status).
 */
async function report(
  forge: Forge,
  request: PlanRequest,
  deps: PlanJobDeps,
  plans: EnvironmentPlan[],
  fingerprint: { key: string; value: string },
  readSource: ReadSource,
): Promise<void> {
  const url = planUrl(
    deps.publicUrl,
    await deps.plans.save(fullPlanText({ sha: request.headSha, plans }), request.repo),
  );
  const plannedAt = new Date();
  await writeComment(forge, request, deps, plans, undefined, url);
  await deps.redis.set(fingerprint.key, fingerprint.value, "EX", FINGERPRINT_TTL_SECONDS);
  // One status per environment: a fleet's groups of clusters report their first failure, else the first group.
  for (const env of new Set(plans.map((p) => p.environment))) {
    const groups = plans.filter((p) => p.environment === env);
    const plan = groups.find((p) => p.error !== undefined) ?? groups[0];
    if (!plan) continue;
    const more = groups.length > 1 ? ` (${groups.length} distinct plans across its clusters)` : "";
    const description = `${planStatusDescription(plan)}${more}`;
    // Clusters that failed alike name the same lines: each once.
    const annotations = [
      ...new Map(
        (await Promise.all(groups.map((p) => errorAnnotations(p.error ?? "", readSource))))
          .flat()
          .map((a) => [JSON.stringify(a), a]),
      ).values(),
    ];
    await tell(
      forge,
      request,
      { context: planContext(env), state: plan.error ? "failure" : "success", description, targetUrl: url },
      planCheck({ sha: request.headSha, plans: groups, title: description, fullPlanUrl: url, plannedAt, annotations }),
    );
  }
  deps.log.info({ environments: plans.map((p) => [p.environment, p.counts]) }, "planned");
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
    // An agent cluster is planned by its agent, on objects rendered here: Ferry cannot read it.
    if (deps.config.clusters.find((c) => c.name === env.cluster)?.agent) {
      if (!deps.agents)
        throw permanent(`cluster "${env.cluster}" is an agent cluster, but this worker has no agent queues`);
      const rendered = await deps.renderer.render(checkout.root, env, {
        repository: request.repo.fullName,
        fork: request.fromFork === true,
      });
      const onAgent = {
        cluster: env.cluster,
        repository: request.repo.fullName,
        sha: request.headSha,
        env,
        grant,
        rendered,
      };
      return await planThroughAgent(deps.agents, onAgent, durationMs(deps.config.agentTimeout));
    }
    const client = await deps.clusters.client(env.cluster);
    const rendered = await deps.renderer.render(checkout.root, env, {
      repository: request.repo.fullName,
      fork: request.fromFork === true,
    });
    return await planEnvironment({
      client,
      repository: request.repo.fullName,
      env,
      grant,
      rendered,
      sha: request.headSha,
      ...(deps.liveReader === undefined ? {} : { live: deps.liveReader(env.cluster, client) }),
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
