import { randomBytes } from "node:crypto";
import { iso } from "../audit/release-audit-entries.js";
import type { DeclaredEnvironment, RenderMode } from "../config/ferry-config.js";
import type { DeployRequest } from "../domain/requests.js";
import type { Rollout } from "../domain/rollout.js";
import { isPermanent } from "../errors.js";
import type { Forge } from "../forge/types.js";
import { rolloutWaves } from "../fleet/rollout-waves.js";
import { grantFor } from "../policy/policy.js";
import { withLock } from "../queue/environment-lock.js";
import type { RetryBudget } from "../queue/queues.js";
import { scheduleReconciles } from "../reconcile/schedule-reconciles.js";
import { WatchRegistry } from "../watch/watch-registry.js";
import { freezeOf } from "../freeze/freeze-of.js";
import { FreezeStore } from "../freeze/freeze-store.js";
import type { ActiveFreeze } from "../freeze/freeze-window.js";
import { Checkouts, type Checkout } from "../release/checkout.js";
import { renderKey } from "../render/render-key.js";
import { detectRenderMode } from "../render/select-renderer.js";
import type { RenderedObject } from "../render/types.js";
import type { ReleaseReporter } from "../report/release-reporter.js";
import type { ReportTarget } from "../rollout/rollout-store.js";
import { failureMessage, gaveUp } from "./gave-up.js";
import { forgeAndReporter, reportingTo, type Attempt, type ReleaseDeps } from "./release-deps.js";

/** One deploy job's work, shared by its steps. */
interface DeployContext {
  request: DeployRequest;
  /** The shared dependencies, logging with the job's delivery, repository, branch and commit. */
  deps: ReleaseDeps;
  forge: Forge;
  reporter: ReleaseReporter;
  checkouts: Checkouts;
  /** The commit (and the change, when the webhook named it) this deploy reports to. */
  targets: ReportTarget[];
  /**
   * The changes merged as the commit, when the webhook did not name one (a push), looked up beside
   * the deploy: decoration for the result comment, so it never fails and nothing waits for it.
   */
  mergedChanges: Promise<number[]>;
  /** The environments whose rollout this job started or joined. */
  started: string[];
  /** Whether this job already counted its deploy as a failed release. */
  counted: boolean;
  retry: RetryBudget;
  /** When this run of the job started, for audit records. */
  startedAt: number;
}

/**
 * Deploys a merge or push: reads the branch head's `.ferry.yml`, and for each environment of the
 * branch starts a rollout of the head (never an older commit), in promotion order. A rollout is
 * started once per (environment, head): a job for an older commit joins the head's rollout, which
 * then reports to that commit too. Each rollout renders its distinct targets once and queues its
 * own job, which releases the clusters wave by wave; this job returns the rollout ids.
 *
 * A deploy that cannot do its work (the forge refuses a read, or a failure outlasts the retries)
 * fails `ferry/deploy` with the reason in the forge's words, logs it and counts a failed release.
 */
export async function runDeployJob(
  request: DeployRequest,
  attempt: Attempt,
  shared: ReleaseDeps,
  retry: RetryBudget = {},
): Promise<string[]> {
  const deps = {
    ...shared,
    log: shared.log.child({
      delivery: request.deliveryId,
      repository: request.repo.fullName,
      branch: request.branch,
      sha: request.sha,
    }),
  };
  let built: Awaited<ReturnType<typeof forgeAndReporter>>;
  try {
    built = await forgeAndReporter(request.repo, deps);
  } catch (error) {
    // Without a forge there is nowhere to report: the log and the metric are the trace.
    if (gaveUp(error, attempt)) {
      deps.log.error({ err: error }, `deploy failed, and no status can be set: ${failureMessage(error, attempt)}`);
      deps.metrics?.notReleased();
    }
    throw error;
  }
  const { forge, reporter } = built;
  const ctx: DeployContext = {
    request,
    deps,
    forge,
    reporter,
    checkouts: new Checkouts(forge),
    targets: [{ sha: request.sha, ...(request.change === undefined ? {} : { change: request.change }) }],
    mergedChanges: request.change === undefined ? lookUpMergedChanges(forge, request.sha, deps) : Promise.resolve([]),
    started: [],
    counted: false,
    retry,
    startedAt: Date.now(),
  };
  return reportingTo(reporter, async () => {
    try {
      const ids = await deploy(ctx, attempt);
      await attachMergedChanges(ctx, ids);
      return ids;
    } catch (error) {
      if (gaveUp(error, attempt)) await deployFailed(ctx, error, attempt);
      throw error;
    } finally {
      await ctx.checkouts.dispose();
    }
  });
}

/** The deploy's steps: the branch's environments, then a rollout of the head for each, in promotion order. */
async function deploy(ctx: DeployContext, attempt: Attempt): Promise<string[]> {
  const { request, deps } = ctx;
  const environments = await branchEnvironments(ctx);
  if (environments === undefined) return [];
  const frozen = await freezes(ctx, environments);
  // A commit a freeze held back (or an override releases) already shows a pending status, and GitLab
  // refuses pending after pending.
  if (attempt.number === 1 && !request.heldBack && request.overrideFreeze === undefined)
    ctx.reporter.queued(
      request.sha,
      environments.filter((e) => !frozen.has(e.name)).map((e) => e.name),
      request.trigger,
    );
  const ids: string[] = [];
  const rolledOut = new Set<string>();
  for (const env of environments) {
    const freeze = frozen.get(env.name);
    if (freeze !== undefined) {
      await holdBack(ctx, env, freeze);
      continue;
    }
    const id = await startRollout(ctx, env);
    if (id === undefined) continue;
    ids.push(id);
    rolledOut.add(env.name);
  }
  await scheduleReconciles({
    queues: deps.queues,
    watches: new WatchRegistry(deps.redis),
    config: deps.config,
    log: deps.log,
    repo: request.repo,
    branch: request.branch,
    environments,
    rolledOut,
  });
  return ids;
}

/** The deploy could not do its work: logged with the forge's words, counted, and `ferry/deploy` failed on every commit it reports to. */
async function deployFailed(ctx: DeployContext, error: unknown, attempt: Attempt): Promise<void> {
  const message = failureMessage(error, attempt);
  ctx.deps.log.error({ err: error, started: ctx.started }, `deploy failed: ${message}`);
  if (!ctx.counted) ctx.deps.metrics?.notReleased();
  ctx.counted = true;
  await ctx.reporter.deployFailed(await withMergedChanges(ctx, ctx.targets), message, ctx.started);
}

/** The changes merged as `sha`, or none when the forge cannot say (logged: the result is then not commented on them). */
async function lookUpMergedChanges(forge: Forge, sha: string, deps: ReleaseDeps): Promise<number[]> {
  try {
    return await forge.changesMergedAs(sha);
  } catch (error) {
    deps.log.warn(
      { err: error },
      `could not find the changes merged as ${sha}; the release goes on, without a result comment on them`,
    );
    return [];
  }
}

/** `targets` and the changes merged as this job's commit. */
async function withMergedChanges(ctx: DeployContext, targets: ReportTarget[]): Promise<ReportTarget[]> {
  const changes = await ctx.mergedChanges;
  return [...targets, ...changes.map((change) => ({ sha: ctx.request.sha, change }))];
}

/**
 * Once the rollouts started, the changes merged as the commit hear how they go: attached to each
 * rollout, whose status and comment are brought up to date for them (it may have ended already).
 * Decoration: a failure here is logged and neither fails nor retries the deploy.
 */
async function attachMergedChanges(ctx: DeployContext, ids: string[]): Promise<void> {
  const changes = await ctx.mergedChanges;
  if (changes.length === 0) return;
  try {
    for (const id of ids) {
      let joined = false;
      for (const change of changes)
        joined = (await ctx.deps.store.attach(id, { sha: ctx.request.sha, change })) || joined;
      const rollout = joined ? await ctx.deps.store.get(id) : undefined;
      if (rollout) await ctx.reporter.rolloutChanged(rollout, { comment: true });
    }
  } catch (error) {
    ctx.deps.log.warn({ err: error, changes }, "could not report the release on the changes merged as the commit");
  }
}

/** The environments the branch head deploys from this branch, each after the one it waits for; undefined (reported) when its config is bad. */
async function branchEnvironments(ctx: DeployContext): Promise<DeclaredEnvironment[] | undefined> {
  const head = await ctx.forge.branchHead(ctx.request.branch);
  let checkout: Checkout;
  try {
    checkout = await ctx.checkouts.get(head);
  } catch (error) {
    // The forge refused the archive, or it could not be extracted safely.
    if (!isPermanent(error)) throw error;
    ctx.deps.log.error({ err: error, head }, `nothing deployed: ${(error as Error).message}`);
    return nothingRead(ctx, error as Error);
  }
  try {
    const config = await checkout.config();
    const environments = config.environments.filter((e) => e.branch === ctx.request.branch);
    if (environments.length === 0)
      ctx.deps.log.info(
        { repository: ctx.request.repo.fullName, branch: ctx.request.branch },
        "no environment deploys this branch",
      );
    return promotionOrder(environments);
  } catch (error) {
    if (!isPermanent(error)) throw error;
    ctx.deps.log.warn({ err: error, head }, `nothing deployed: ${(error as Error).message}`);
    return nothingRead(ctx, error as Error);
  }
}

/** The commit's files or configuration could not be read: counted as a failed release and reported. */
async function nothingRead(ctx: DeployContext, error: Error): Promise<undefined> {
  ctx.deps.metrics?.notReleased();
  ctx.counted = true;
  await notReleased(ctx, "*", ctx.request.sha, error.message);
  await ctx.reporter.configError(await withMergedChanges(ctx, ctx.targets), error.message);
  return undefined;
}

/**
 * Starts the rollout of the branch head to one environment, under the environment's lock so heads
 * only move forward: the newest rollout is the environment's current one, and older ones stop at
 * their next step. Returns the rollout's id, or undefined when it could not start (reported).
 */
async function startRollout(ctx: DeployContext, env: DeclaredEnvironment): Promise<string | undefined> {
  const { request, deps } = ctx;
  const lockKey = `ferry:lock:rollout:${request.repo.forge}:${request.repo.fullName}:${env.name}`;
  return withLock(
    deps.redis,
    lockKey,
    () => startHeadRollout(ctx, env),
    deps.claimMs === undefined ? {} : { ttlMs: deps.claimMs },
  );
}

/** Under the environment's rollout lock: the head's rollout, started once, with this deploy's commits attached. */
async function startHeadRollout(ctx: DeployContext, env: DeclaredEnvironment): Promise<string | undefined> {
  const { request, deps } = ctx;
  const head = await ctx.forge.branchHead(request.branch);
  const headTargets = head === request.sha ? ctx.targets : [...ctx.targets, { sha: head }];
  let id = await deps.store.idOf(request.repo, env.name, head);
  if (id === undefined) {
    id = await createRollout(ctx, env, head, headTargets);
    if (id === undefined) return undefined;
    const previous = await deps.store.current(request.repo, env.name);
    await deps.store.setCurrent(request.repo, env.name, id);
    for (const target of headTargets) await deps.store.attach(id, target);
    await deps.queues.startRollout(id, ctx.retry);
    ctx.started.push(env.name);
    // The older rollout may be parked at a gate: wake it so it sees it was superseded now.
    if (previous !== undefined) await deps.queues.wakeRollout(previous);
    return id;
  }
  // The head's rollout exists: this commit is included in it, and hears how it goes. Its job is
  // queued again (a no-op unless a killed attempt of the job that created the rollout never queued it).
  await deps.queues.startRollout(id, ctx.retry);
  ctx.started.push(env.name);
  let joined = false;
  for (const target of headTargets) joined = (await deps.store.attach(id, target)) || joined;
  const rollout = await deps.store.get(id);
  if (joined && rollout) await ctx.reporter.rolloutChanged(rollout, { comment: true });
  return id;
}

/**
 * The freezes holding back the releases of `environments` now: a freeze window of the branch head's
 * `.ferry.yml` or of the server config, or `/ferry freeze`; none for an environment an admin's
 * override names.
 */
async function freezes(ctx: DeployContext, environments: DeclaredEnvironment[]): Promise<Map<string, ActiveFreeze>> {
  const { request, deps } = ctx;
  const found = new Map<string, ActiveFreeze>();
  const declared = (await (await ctx.checkouts.get(await ctx.forge.branchHead(request.branch))).config()).freeze;
  const store = new FreezeStore(deps.redis);
  for (const env of environments) {
    if (request.overrideFreeze?.includes(env.name)) continue;
    const freeze = await freezeOf({
      repo: request.repo,
      environment: env.name,
      declared: declared ?? [],
      server: deps.config.freeze,
      store,
      now: Date.now(),
    });
    if (freeze !== undefined) found.set(env.name, freeze);
  }
  return found;
}

/**
 * A freeze holds the environment's release back: the commits say so (pending: `frozen until …:
 * <reason>`), and the deploy is queued again for when the freeze ends. Then, like any deploy, it
 * releases the branch head of that time, so only the newest commit is released and older ones join
 * its rollout.
 */
async function holdBack(ctx: DeployContext, env: DeclaredEnvironment, freeze: ActiveFreeze): Promise<void> {
  const { request, deps } = ctx;
  ctx.reporter.frozen(ctx.targets, env.name, freeze.until, freeze.reason);
  const jobId = await deps.queues.enqueueHeldDeploy(request, freeze.until);
  await new FreezeStore(deps.redis).heldBack(request.repo, env.name, jobId, freeze.until);
  deps.log.info(
    { environment: env.name, until: new Date(freeze.until).toISOString(), reason: freeze.reason, job: jobId },
    "release held back by a freeze",
  );
}

/** Resolves, checks and renders an environment's clusters at `head`, and stores the rollout; undefined when it cannot start (reported). */
async function createRollout(
  ctx: DeployContext,
  env: DeclaredEnvironment,
  head: string,
  targets: ReportTarget[],
): Promise<string | undefined> {
  const { request, deps } = ctx;
  const checkout = await ctx.checkouts.get(head);
  const declared =
    (await checkout.config()).environments.find((e) => e.name === env.name && e.branch === request.branch) ?? env;
  try {
    const { waves, targets: clusterEnvs } = rolloutWaves(declared, deps.config);
    for (const target of clusterEnvs.values()) grantFor(deps.config, request.repo.fullName, target);
    const renders = new Map<string, RenderedObject[]>();
    const renderKeys = new Map<string, string>();
    // `auto` is resolved once per path, so targets that differ only where the tool never looks share a render.
    const modes = new Map<string, Promise<RenderMode>>();
    for (const [cluster, declaredTarget] of clusterEnvs) {
      const mode =
        declaredTarget.render === undefined || declaredTarget.render === "auto"
          ? await memo(modes, declaredTarget.path, () => detectRenderMode(checkout.root, declaredTarget.path))
          : declaredTarget.render;
      const target = { ...declaredTarget, render: mode };
      const key = renderKey(target);
      renderKeys.set(cluster, key);
      if (!renders.has(key))
        renders.set(key, await deps.renderer.render(checkout.root, target, { repository: request.repo.fullName }));
    }
    const rollout: Rollout = {
      id: randomBytes(16).toString("base64url"),
      repo: request.repo,
      environment: declared.name,
      branch: request.branch,
      sha: head,
      actor: request.actor,
      delivery: request.deliveryId,
      ...(request.trigger === undefined ? {} : { trigger: request.trigger }),
      ...(declared.after === undefined ? {} : { after: declared.after }),
      single: declared.cluster !== undefined,
      waves,
      state: declared.after === undefined ? "running" : "waiting",
      wave: 0,
      createdAt: Date.now(),
      waveStartedAt: Date.now(),
    };
    await deps.store.create({ rollout, declared, renders, renderKeys });
    ctx.reporter.rolloutCreated(rollout);
    deps.log.info(
      {
        repository: request.repo.fullName,
        environment: declared.name,
        sha: head,
        rollout: rollout.id,
        clusters: clusterEnvs.size,
        renders: renders.size,
      },
      "rollout created",
    );
    return rollout.id;
  } catch (error) {
    if (!isPermanent(error)) throw error;
    deps.log.warn(
      { err: error, environment: env.name, head },
      `environment ${env.name} not released: ${(error as Error).message}`,
    );
    deps.metrics?.notReleased(env.name);
    await notReleased(ctx, env.name, head, (error as Error).message);
    await ctx.reporter.environmentError(await withMergedChanges(ctx, targets), env.name, (error as Error).message);
    return undefined;
  }
}

/** Records in the audit trail a release of `environment` (`*`: the environments could not be read) that never started, and why. */
async function notReleased(ctx: DeployContext, environment: string, sha: string, reason: string): Promise<void> {
  const { request } = ctx;
  await ctx.deps.audit.record({
    action: "release",
    actor: request.trigger === "reconcile" ? "reconcile" : request.actor,
    forge: request.repo.forge,
    repository: request.repo.fullName,
    environment,
    ...(request.change === undefined ? {} : { change: request.change }),
    sha,
    startedAt: iso(ctx.startedAt),
    finishedAt: iso(Date.now()),
    outcome: "failed",
    reason,
  });
}

/** The value of `key` in `cache`, made by `make` the first time. */
function memo<T>(cache: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  let value = cache.get(key);
  if (value === undefined) cache.set(key, (value = make()));
  return value;
}

/** Environments ordered so each comes after the one it names in `after:` (the config refuses cycles). */
function promotionOrder(environments: DeclaredEnvironment[]): DeclaredEnvironment[] {
  const byName = new Map(environments.map((e) => [e.name, e]));
  const ordered: DeclaredEnvironment[] = [];
  const visit = (env: DeclaredEnvironment, seen: Set<string>) => {
    if (ordered.includes(env) || seen.has(env.name)) return;
    seen.add(env.name);
    const before = env.after === undefined ? undefined : byName.get(env.after);
    if (before) visit(before, seen);
    ordered.push(env);
  };
  for (const env of environments) visit(env, new Set());
  return ordered;
}
