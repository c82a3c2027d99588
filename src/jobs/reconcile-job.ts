import type { Logger } from "pino";
import { auditObjects } from "../audit/audit-objects.js";
import type { AuditEntry } from "../audit/audit-record.js";
import { iso } from "../audit/release-audit-entries.js";
import type { Environment } from "../config/ferry-config.js";
import type { ReconcileOutcome } from "../domain/reconcile.js";
import type { RepoRef } from "../domain/repo.js";
import { summarizeDrift, type ObjectDrift } from "../drift/summarize-drift.js";
import { isPermanent, permanent, transient } from "../errors.js";
import type { Forge } from "../forge/types.js";
import { AgentUnreachableError } from "../agent/reconcile-through-agent.js";
import { durationMs } from "../config/duration.js";
import { inventoryLocation, type Inventory, type InventoryLocation } from "../kube/inventory.js";
import { KubeApiError } from "../kube/kube-client.js";
import { describeRef } from "../kube/object-ref.js";
import { grantFor } from "../policy/policy.js";
import { withLock } from "../queue/environment-lock.js";
import { reconcileSchedulerId, type ReconcileJobData } from "../queue/reconcile-request.js";
import { WatchRegistry } from "../watch/watch-registry.js";
import { AgentWatchRegistry, type AgentWatchedType } from "../agent/agent-watch-registry.js";
import { CATCH_UP_ACTOR, catchUp } from "../reconcile/catch-up.js";
import { healable } from "../reconcile/find-drift.js";
import {
  agentCluster,
  directCluster,
  type ClusterFindings,
  type ReconcileCluster,
} from "../reconcile/reconcile-cluster.js";
import { releasedRender } from "../reconcile/released-render.js";
import { Checkouts } from "../release/checkout.js";
import type { RenderedObject } from "../render/types.js";
import { DriftReporter } from "../report/drift-reporter.js";
import type { DriftedObjectView } from "../report/drift-issue.js";
import type { HealAnswer } from "../report/drift-status.js";
import { finalStatusOnce } from "../report/final-status-once.js";
import { releaseLockKey, type ReleaseDeps } from "./release-deps.js";

/** How a run was asked for: on its schedule, or by `/ferry heal` (heal whatever the mode, no catch-up). */
export interface ReconcileOptions {
  /** Heal drift now, whatever the environment's `reconcile.drift` says. */
  heal?: boolean;
  /** Who asked for the heal. */
  actor?: string;
  /** How long to wait for a release holding the cluster before giving this run up (default 2 s). */
  lockWaitMs?: number;
}

/** One reconcile's work, shared by its steps. */
interface ReconcileContext {
  data: ReconcileJobData;
  deps: ReleaseDeps;
  options: ReconcileOptions;
  forge: Forge;
  reporter: DriftReporter;
  /** The cluster, reached directly or through its agent. */
  cluster: ReconcileCluster;
  checkouts: Checkouts;
  log: Logger;
}

/** Drifted objects a cluster's verdict keeps for the drift issue. */
const ISSUE_OBJECTS = 50;

/** A drifted object as the drift issue lists it. */
function objectView({ ref, drift }: ObjectDrift): DriftedObjectView {
  const object = describeRef(ref);
  if (drift?.kind === "taken-over") return { object, kind: "taken-over", by: drift.by };
  if (drift?.kind === "drifted") return { object, kind: "drifted", fields: drift.fields };
  return { object, kind: "gone" };
}

/** A run waits this long for a release holding the cluster before leaving it to the next run. */
const SCHEDULED_LOCK_WAIT_MS = 2_000;

/**
 * Reconciles one environment on one cluster, under the same (environment, cluster) lock as its
 * releases: read the inventory → catch up (deploy the branch head when its webhook never came) →
 * the last release's render → drift, judged object by object → heal (mode `heal`, or `/ferry
 * heal`) → report the verdict (`ferry/drift/<env>`). When a release holds the cluster, the run is
 * left to the next one. On an agent cluster the cluster's steps (inventory, drift, heal) are its
 * agent's jobs and the rest stays here; an agent unseen for `agentTimeout` is reported as such.
 */
export async function runReconcileJob(
  data: ReconcileJobData,
  deps: ReleaseDeps,
  options: ReconcileOptions = {},
): Promise<ReconcileOutcome> {
  const log = deps.log.child({ repository: data.repo.fullName, environment: data.environment, cluster: data.cluster });
  const clusterConfig = deps.config.clusters.find((c) => c.name === data.cluster);
  if (!clusterConfig) throw permanent(`cluster "${data.cluster}" is no longer registered with Ferry`);
  const cluster = clusterConfig.agent ? throughAgent(data.cluster, deps) : await directly(data.cluster, deps);
  const forge = finalStatusOnce(await deps.forges(data.repo), deps.redis);
  const ctx: ReconcileContext = {
    data,
    deps,
    options,
    forge,
    reporter: new DriftReporter(forge, deps.redis),
    cluster,
    checkouts: new Checkouts(forge),
    log,
  };
  let locked = false;
  try {
    const lockOptions = {
      waitMs: options.lockWaitMs ?? SCHEDULED_LOCK_WAIT_MS,
      ...(deps.claimMs === undefined ? {} : { ttlMs: deps.claimMs }),
    };
    return await withLock(
      deps.redis,
      releaseLockKey(data.repo, data.environment, data.cluster),
      () => {
        locked = true;
        return reconcile(ctx);
      },
      lockOptions,
    );
  } catch (error) {
    if (locked || isPermanent(error)) throw error;
    log.info("a release holds the cluster: the next reconcile looks at it");
    return { environment: data.environment, cluster: data.cluster, state: "busy" };
  } finally {
    await ctx.checkouts.dispose();
  }
}

/** A cluster Ferry reaches, its live objects read from the watch caches while they are fresh. */
async function directly(name: string, deps: ReleaseDeps): Promise<ReconcileCluster> {
  const client = await deps.clusters.client(name);
  return directCluster(client, deps.liveReader?.(name, client));
}

/** An agent cluster: its steps go to its agent, which may go unseen for `agentTimeout`. */
function throughAgent(name: string, deps: ReleaseDeps): ReconcileCluster {
  if (!deps.agents) throw permanent(`cluster "${name}" is an agent cluster, but this worker has no agent queues`);
  return agentCluster({ agents: deps.agents, cluster: name, timeoutMs: durationMs(deps.config.agentTimeout) });
}

/** The reconcile under the lock; an agent that was not seen makes its cluster's verdict `unreachable`. */
async function reconcile(ctx: ReconcileContext): Promise<ReconcileOutcome> {
  try {
    return await reconcileSteps(ctx);
  } catch (error) {
    if (!(error instanceof AgentUnreachableError)) throw error;
    return unreachable(ctx, error.message);
  }
}

/** Inventory → catch-up → last release → drift (and heal) → report. */
async function reconcileSteps(ctx: ReconcileContext): Promise<ReconcileOutcome> {
  const { data, options } = ctx;
  const at = inventoryLocation(data.repo.fullName, data.environment, data.namespace);
  const inventory = await ctx.cluster.inventory(at, data.repo.fullName, data.environment);
  await watchStep(ctx, at, inventory);
  const caughtUp = options.heal ? undefined : await catchUpStep(ctx, inventory);
  const outcome: ReconcileOutcome = {
    environment: data.environment,
    cluster: data.cluster,
    state: "checked",
    ...(caughtUp === undefined ? {} : { caughtUp }),
  };
  const released = await lastRelease(ctx, inventory);
  if (data.drift === "ignore" && !options.heal) {
    await ctx.reporter.turnedOff(data.environment, data.cluster, released);
    return outcome;
  }
  if (released === undefined) return { ...outcome, state: "unreleased" };
  const heal = options.heal || data.drift === "heal";
  const check = await driftStep(ctx, at, inventory, released, heal);
  const drifted = check.objects.filter(healable);
  const healed =
    check.healed !== undefined || check.healError !== undefined ? await healStep(ctx, check, released) : undefined;
  const left = healed === undefined ? drifted : [];
  await report(ctx, released, left, healed);
  await replanStep(ctx, left, healed);
  return { ...outcome, drifted: left.length, ...(healed === undefined ? {} : { healed }) };
}

/**
 * With `reconcile.watch`, records what to watch for the environment (the collections its objects
 * live in, from the inventory just read), so a worker's watch sees its next change; without, forgets
 * it. On an agent cluster, which only its agent reaches, the agent watches: it is told the objects'
 * types and resolves their collections itself.
 */
async function watchStep(ctx: ReconcileContext, at: InventoryLocation, inventory: Inventory): Promise<void> {
  const { data } = ctx;
  // A `/ferry heal` run is not the scheduler's: its data says nothing about watching.
  if (ctx.options.heal) return;
  const registry = new WatchRegistry(ctx.deps.redis);
  const id = reconcileSchedulerId(data.repo, data.environment, data.cluster);
  const client = ctx.cluster.client;
  if (data.watch !== true) return registry.forget(id, data.cluster);
  if (client === undefined) {
    const types = new Map<string, AgentWatchedType>();
    for (const { apiVersion, kind, namespace } of inventory.objects)
      types.set(`${apiVersion}\n${kind}\n${namespace ?? ""}`, {
        apiVersion,
        kind,
        ...(namespace === undefined ? {} : { namespace }),
      });
    return new AgentWatchRegistry(ctx.deps.redis).record(data.cluster, id, {
      data,
      inventory: at.id,
      types: [...types.values()],
    });
  }
  const collections = new Set<string>();
  for (const { apiVersion, kind, namespace } of inventory.objects) {
    const path = await client
      .path({ apiVersion, kind, ...(namespace === undefined ? {} : { namespace }) })
      .catch((error: unknown) => {
        if (error instanceof KubeApiError && error.status === 404) return undefined;
        throw error;
      });
    if (path !== undefined) collections.add(path);
  }
  await registry.record(id, { data, inventory: at.id, collections: [...collections].sort() });
}

/**
 * The cluster moved under the open changes' plans (drift found, or healed away): re-plan the open
 * changes into the branch, once per new verdict, not on every run while the same drift stays. Like
 * every re-plan it is decoration: a forge that cannot list the changes only costs a log line.
 */
async function replanStep(ctx: ReconcileContext, left: ObjectDrift[], healed: string[] | undefined): Promise<void> {
  const { data, deps } = ctx;
  const verdict = healed !== undefined ? `healed ${healed.join(", ")}` : (summarizeDrift(left) ?? "");
  const key = `ferry:drift-replanned:${data.repo.forge}:${data.repo.fullName}:${data.environment}:${data.cluster}`;
  const before = await deps.redis.getset(key, verdict);
  await deps.redis.expire(key, 30 * 24 * 3600);
  if (verdict === "" || before === verdict) return;
  try {
    const open = await ctx.forge.openChanges(data.branch);
    await deps.queues.refreshPlans(
      open.map((change) => ({
        repo: data.repo,
        change: change.number,
        headSha: change.headSha,
        baseBranch: data.branch,
        actor: change.author,
        deliveryId: `drift-${data.environment}-${data.cluster}`,
        fromFork: change.fromFork,
      })),
    );
  } catch (error) {
    ctx.log.warn({ err: error }, "could not re-plan the open changes after drift");
  }
}

/** A lost webhook caught up: the branch head's deploy queued, when it was due. */
async function catchUpStep(ctx: ReconcileContext, inventory: Inventory): Promise<string | undefined> {
  const { data, deps } = ctx;
  const caughtUp = await catchUp({
    forge: ctx.forge,
    store: deps.store,
    queues: deps.queues,
    repo: data.repo,
    branch: data.branch,
    environment: data.environment,
    inventory,
  });
  if (caughtUp !== undefined)
    ctx.log.info({ sha: caughtUp }, "no webhook was received for the branch head: deploy queued by reconcile");
  return caughtUp;
}

/** The last release's environment and render, how each of its objects stands, and what a heal did. */
interface DriftCheck extends ClusterFindings {
  env: Environment;
  rendered: RenderedObject[];
  /** When the check (and its heal) started. */
  startedAt: number;
}

/**
 * Drift against the release of `sha`: its render (stored, or rendered again), judged object by
 * object on the cluster, which heals what drifted when `heal` is set.
 */
async function driftStep(
  ctx: ReconcileContext,
  at: InventoryLocation,
  inventory: Inventory,
  sha: string,
  heal: boolean,
): Promise<DriftCheck> {
  const { data, deps } = ctx;
  const { env, rendered } = await releasedRender({
    ...deps,
    checkouts: ctx.checkouts,
    repo: data.repo,
    environment: data.environment,
    cluster: data.cluster,
    namespace: data.namespace,
    sha,
  });
  const startedAt = Date.now();
  const found = await ctx.cluster.check({
    at,
    inventory,
    repository: data.repo.fullName,
    sha,
    env,
    grant: grantFor(deps.config, data.repo.fullName, env),
    rendered,
    ...(heal ? { heal: { actor: ctx.options.actor ?? CATCH_UP_ACTOR } } : {}),
  });
  const drifted = found.objects.filter(healable);
  if (drifted.length > 0)
    ctx.log.info({ sha, drifted: drifted.length, summary: summarizeDrift(drifted) }, "drift found");
  return { ...found, env, rendered, startedAt };
}

/** Records the check's heal in the audit trail (a failed heal too, then thrown): the objects restored, by description. */
async function healStep(ctx: ReconcileContext, check: DriftCheck, sha: string): Promise<string[]> {
  const { data, deps } = ctx;
  const { startedAt } = check;
  const audit = (fields: Pick<AuditEntry, "outcome" | "reason" | "objects">) =>
    deps.audit.record({
      action: "heal",
      actor: ctx.options.actor ?? "reconcile",
      forge: data.repo.forge,
      repository: data.repo.fullName,
      environment: data.environment,
      cluster: data.cluster,
      sha,
      startedAt: iso(startedAt),
      finishedAt: iso(Date.now()),
      ...fields,
    });
  const healed = check.healed;
  if (healed === undefined) {
    const error = check.healError ?? transient("the heal reported nothing");
    await audit({ outcome: "failed", reason: error.message });
    throw error;
  }
  const restored = healed.restored.map(describeRef);
  // The drift's values stay out of the trail (names only): the drift issue shows them.
  const drifted = check.objects.filter(healable).length;
  await audit({
    outcome: "healed",
    reason: `${drifted} object${drifted === 1 ? "" : "s"} drifted, ${restored.length} restored`,
    objects: auditObjects(healed.changes),
  });
  ctx.log.info({ sha, healed: restored }, "drift healed");
  return restored;
}

/**
 * The commit the cluster last released, when its newest record is a success (a heal counts); none
 * while a release of the environment is under way there or the newest release failed: the cluster
 * then holds what that release left, which its own status reports.
 */
async function lastRelease(ctx: ReconcileContext, inventory: Inventory): Promise<string | undefined> {
  const [newest] = inventory.releases;
  if (newest?.result !== "success") return undefined;
  // A release whose worker died mid-wait left its objects applied but not recorded: its retry comes first.
  const current = await ctx.deps.store.current(ctx.data.repo, ctx.data.environment);
  const progress = current === undefined ? undefined : await ctx.deps.store.cluster(current, ctx.data.cluster);
  return progress?.state === "releasing" ? undefined : newest.sha;
}

/**
 * The cluster's agent was not seen for `agentTimeout`: its verdict says so (the environment's drift
 * status fails naming it, never `in sync`, and an open drift issue stays open), on the commit it was
 * last reported on, or else the environment's current rollout's.
 */
async function unreachable(ctx: ReconcileContext, reason: string): Promise<ReconcileOutcome> {
  const { data, deps } = ctx;
  ctx.log.warn({ reason }, "reconcile: the cluster's agent is unreachable");
  const current = await deps.store.current(data.repo, data.environment);
  const sha =
    (await ctx.reporter.lastSha(data.environment, data.cluster)) ??
    (current === undefined ? undefined : (await deps.store.summary(current))?.sha);
  if (sha !== undefined) {
    const now = Date.now();
    await ctx.reporter.checked(data.environment, data.branch, {
      cluster: data.cluster,
      sha,
      drifted: 0,
      unreachable: reason,
      checkedAt: now,
      until: now + 3 * data.everyMs + 60_000,
    });
  }
  return { environment: data.environment, cluster: data.cluster, state: "unreachable" };
}

/** Keeps the cluster's verdict and reports the environment's. */
async function report(
  ctx: ReconcileContext,
  sha: string,
  drifted: ObjectDrift[],
  healed: string[] | undefined,
): Promise<void> {
  const now = Date.now();
  const summary = summarizeDrift(drifted);
  const { issueError } = await ctx.reporter.checked(ctx.data.environment, ctx.data.branch, {
    cluster: ctx.data.cluster,
    sha,
    drifted: drifted.length,
    ...(summary === undefined ? {} : { summary, objects: drifted.slice(0, ISSUE_OBJECTS).map(objectView) }),
    ...(healed === undefined ? {} : { healed: healed.length }),
    checkedAt: now,
    // A verdict stands for three intervals (and a minute): a cluster no longer reconciled drops out.
    until: now + 3 * ctx.data.everyMs + 60_000,
  });
  if (issueError !== undefined) ctx.log.warn({ reason: issueError }, "the drift issue could not be kept up to date");
}

/**
 * `/ferry heal [env]` on a change of `branch`: heals, once and whatever their mode, the clusters of
 * each environment the branch deploys to (or only `environment`), waiting for a release holding one.
 */
export async function healBranch(
  repo: RepoRef,
  branch: string,
  environment: string | undefined,
  actor: string,
  deps: ReleaseDeps,
): Promise<HealAnswer[]> {
  const schedules = (await deps.queues.reconcileSchedules(repo, branch)).filter(
    (s) => environment === undefined || s.environment === environment,
  );
  const answers: HealAnswer[] = [];
  for (const data of schedules) {
    const where = { environment: data.environment, cluster: data.cluster };
    try {
      const outcome = await runReconcileJob(data, deps, { heal: true, actor, lockWaitMs: 5 * 60_000 });
      if (outcome.state === "checked") answers.push({ ...where, restored: outcome.healed ?? [] });
      else
        answers.push({
          ...where,
          reason:
            outcome.state === "busy"
              ? "a release held the cluster throughout"
              : outcome.state === "unreachable"
                ? "its agent was not seen for agentTimeout"
                : "nothing was successfully released there yet",
        });
    } catch (error) {
      if (!isPermanent(error)) throw error;
      answers.push({ ...where, reason: (error as Error).message.split("\n")[0] ?? "" });
    }
  }
  return answers;
}
