import { releaseThroughAgent } from "../agent/release-through-agent.js";
import { durationMs } from "../config/duration.js";
import { releaseAuditEntries, type ReleaseTimes } from "../audit/release-audit-entries.js";
import { waitTimeoutMs, watched, type Environment } from "../config/ferry-config.js";
import type { ClusterOutcome, ReleaseResult, RollbackOutcome } from "../domain/release.js";
import type { RolloutSummary } from "../domain/rollout.js";
import { isPermanent, permanent } from "../errors.js";
import { environmentFor } from "../fleet/environment-for-cluster.js";
import { waitForHealth } from "../kube/wait-for-health.js";
import { grantFor } from "../policy/policy.js";
import { withLock } from "../queue/environment-lock.js";
import type { ReleaseJobData } from "../queue/queues.js";
import { reconcileData } from "../reconcile/reconcile-data.js";
import { Checkouts } from "../release/checkout.js";
import { ReleaseSession } from "../release/release-session.js";
import { renderAt } from "../release/render-at.js";
import { rollBack } from "../release/roll-back.js";
import type { RenderedObject } from "../render/types.js";
import { short } from "../report/deploy-report.js";
import { ProgressStatus } from "../report/progress-status.js";
import type { ReleaseReporter } from "../report/release-reporter.js";
import { watchForNewerRollout } from "../rollout/watch-for-newer-rollout.js";
import { forgeAndReporter, releaseLockKey, reportingTo, type Attempt, type ReleaseDeps } from "./release-deps.js";

/** One cluster's release, as its steps see it. */
interface ReleaseContext {
  rollout: RolloutSummary;
  cluster: string;
  wave: number;
  env: Environment;
  /** True when the cluster is reached through its agent (`agent: true`). */
  agent: boolean;
  deps: ReleaseDeps;
  reporter: ReleaseReporter;
  /** Posts a running status of a one-cluster rollout (fleets report counts instead). */
  progress(description: string): Promise<void>;
}

/**
 * Releases one rollout's commit to one cluster, under the (environment, cluster) lock:
 * still current? → open the session (reads the inventory) → already released? → apply the
 * rollout's render → wait for health (rolling back when the environment asks) → record (writes
 * the inventory) → the outcome, stored with the rollout. Transient errors are retried by BullMQ
 * until the last attempt, which records them as the cluster's failure. Returns the outcome's kind.
 */
export async function runReleaseJob(
  data: ReleaseJobData,
  attempt: Attempt,
  shared: ReleaseDeps,
): Promise<ClusterOutcome["kind"]> {
  let deps = shared;
  const rollout = await deps.store.summary(data.rolloutId);
  if (!rollout) throw permanent(`rollout ${data.rolloutId} is gone (expired?)`);
  const progress = await deps.store.cluster(rollout.id, data.cluster);
  if (progress?.outcome) return progress.outcome.kind;
  // Every line names the delivery, repository, commit, environment and cluster.
  deps = {
    ...deps,
    log: deps.log.child({
      delivery: rollout.delivery,
      repository: rollout.repo.fullName,
      sha: rollout.sha,
      environment: rollout.environment,
      cluster: data.cluster,
    }),
  };
  const { reporter } = await forgeAndReporter(rollout.repo, deps);
  // Statuses go out beside the release, which never waits for the forge; the job ends once they were sent.
  return reportingTo(reporter, () => releaseAndRecord(data, attempt, rollout, deps, reporter, progress?.startedAt));
}

/** The release, its outcome stored with the rollout and counted. */
async function releaseAndRecord(
  data: ReleaseJobData,
  attempt: Attempt,
  rollout: RolloutSummary,
  deps: ReleaseDeps,
  reporter: ReleaseReporter,
  queuedAt: number | undefined,
): Promise<ClusterOutcome["kind"]> {
  const startedAt = Date.now();
  let outcome: ClusterOutcome;
  try {
    const clusterConfig = deps.config.clusters.find((c) => c.name === data.cluster);
    if (!clusterConfig) throw permanent(`cluster "${data.cluster}" is no longer registered with Ferry`);
    const env = environmentFor(await deps.store.declared(rollout.id), clusterConfig);
    const ctx: ReleaseContext = {
      rollout,
      cluster: data.cluster,
      wave: data.wave,
      env,
      agent: clusterConfig.agent,
      deps,
      reporter,
      progress: (d) => (rollout.single ? reporter.progress(rollout, d) : Promise.resolve()),
    };
    outcome = await withLock(
      deps.redis,
      releaseLockKey(rollout.repo, env.name, data.cluster),
      () => release(ctx),
      deps.claimMs === undefined ? {} : { ttlMs: deps.claimMs },
    );
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (!isPermanent(error) && attempt.number < attempt.of) {
      deps.log.warn({ err: error, rollout: rollout.id, cluster: data.cluster }, "release failed, will retry");
      await reporter.retrying(rollout, attempt, message);
      throw error;
    }
    deps.log.warn({ err: error, rollout: rollout.id, cluster: data.cluster }, "release failed");
    // A transient error on the last attempt says the retries are spent, so it reads apart from a permanent failure.
    const spent = isPermanent(error) ? "" : `gave up after ${attempt.of} attempts: `;
    outcome = { kind: "failed", sha: rollout.sha, error: `${spent}${message}` };
  }
  await deps.store.finishCluster(rollout.id, data.cluster, data.wave, outcome, startedAt);
  await audit(deps, rollout, data.cluster, outcome, {
    ...(queuedAt === undefined ? {} : { queuedAt }),
    startedAt,
    finishedAt: Date.now(),
  });
  deps.metrics?.deployed(
    [{ ...outcome, env: { name: rollout.environment, cluster: data.cluster } }],
    (Date.now() - startedAt) / 1000,
  );
  await reporter.clusterFinished(rollout);
  await watchAfterRelease(rollout, data.cluster, outcome, deps);
  // The outcome itself is in the rollout's state; BullMQ keeps only its kind for the parent.
  return outcome.kind;
}

/**
 * A watched environment (`reconcile.watch`) is reconciled right after each release: that run records
 * what to watch (the objects may have moved to new kinds or namespaces) and reports the drift status,
 * instead of waiting out the interval. A failure to queue it costs only the early check.
 */
async function watchAfterRelease(
  rollout: RolloutSummary,
  cluster: string,
  outcome: ClusterOutcome,
  deps: ReleaseDeps,
): Promise<void> {
  if (outcome.kind !== "released" && outcome.kind !== "already-released") return;
  const clusterConfig = deps.config.clusters.find((c) => c.name === cluster);
  if (!clusterConfig) return;
  const env = environmentFor(await deps.store.declared(rollout.id), clusterConfig);
  if (!watched(env)) return;
  const { data } = reconcileData(rollout.repo, rollout.branch, env, cluster, deps.config);
  await deps.queues
    .reconcileSoon(data)
    .catch((error: unknown) =>
      deps.log.warn({ err: error, cluster }, "the reconcile after the release could not be queued"),
    );
}

/** Records the release (and its rollback) in the audit trail, with the change it came from when one is known. */
async function audit(
  deps: ReleaseDeps,
  rollout: RolloutSummary,
  cluster: string,
  outcome: ClusterOutcome,
  times: ReleaseTimes,
): Promise<void> {
  // The change is context: a record without it beats none, so a failed look-up only leaves it out.
  const reports = await deps.store.reports(rollout.id).catch(() => []);
  const change = reports.find((t) => t.change !== undefined)?.change;
  for (const entry of releaseAuditEntries(rollout, cluster, outcome, times, change)) await deps.audit.record(entry);
}

/** How long an apply runs before its release says `deploying …`. */
const ANNOUNCE_MS = 1_000;

/** The release under the lock: it re-reads what may have changed while it waited. */
async function release(ctx: ReleaseContext): Promise<ClusterOutcome> {
  const { rollout, env, deps } = ctx;
  const current = await deps.store.current(rollout.repo, rollout.environment);
  if (current !== undefined && current !== rollout.id)
    return { kind: "superseded", sha: rollout.sha, by: (await deps.store.summary(current))?.sha ?? "a newer commit" };
  const abortedBy = await deps.store.abortedBy(rollout.id);
  if (abortedBy !== undefined) return { kind: "skipped", sha: rollout.sha, reason: `aborted by @${abortedBy}` };
  if (ctx.agent) return releaseOnAgent(ctx);

  const session = new ReleaseSession({
    client: await deps.clusters.client(ctx.cluster),
    repository: rollout.repo.fullName,
    env,
    grant: grantFor(deps.config, rollout.repo.fullName, env),
  });
  const last = (await session.history())[0];
  if (last?.sha === rollout.sha && last.result === "success") return { kind: "already-released", sha: rollout.sha };
  // Said only when the apply is still going after a while: on GitHub, whose writes go a second
  // apart, a "deploying" status of a quick release would hold its final status back.
  const announce = setTimeout(
    () => void ctx.progress(`deploying ${short(rollout.sha)} to ${ctx.cluster}`),
    ANNOUNCE_MS,
  );
  const rendered = await deps.store.rendered(rollout.id, ctx.cluster);
  const result = await session.apply(rendered, rollout.sha, rollout.actor).finally(() => clearTimeout(announce));
  deps.log.info(
    {
      rollout: rollout.id,
      cluster: ctx.cluster,
      created: result.created.length,
      configured: result.configured.length,
      pruned: result.pruned.length,
      unchanged: result.unchanged,
      ...(result.notDryRun ? { notDryRun: result.notDryRun } : {}),
    },
    "released",
  );
  const timeoutMs = waitTimeoutMs(env);
  if (timeoutMs === undefined) {
    await session.record("success");
    return { kind: "released", sha: rollout.sha, result: changes(result) };
  }
  return gateOnHealth(ctx, session, result, timeoutMs, [...new Set(rendered.flatMap((r) => r.secrets ?? []))]);
}

/**
 * The release of an agent cluster: its agent runs the same session steps on the rollout's stored
 * render, in the cluster, and this job only follows it, passing its progress on as statuses. When
 * it failed health and the environment asks for a rollback, the rollback is rendered here and
 * released through the agent too. `reconcile.watch` is refused: only the agent reaches the cluster's
 * API server, and it runs no watches.
 */
async function releaseOnAgent(ctx: ReleaseContext): Promise<ClusterOutcome> {
  const { rollout, env, deps } = ctx;
  const agents = deps.agents;
  if (!agents) throw permanent(`cluster "${ctx.cluster}" is an agent cluster, but this worker has no agent queues`);
  const newer = watchForNewerRollout(deps.store, rollout);
  const progress = new ProgressStatus((d) => ctx.progress(d));
  try {
    const { rollbackTo, ...outcome } = await releaseThroughAgent({
      agents,
      request: {
        rolloutId: rollout.id,
        cluster: ctx.cluster,
        repository: rollout.repo.fullName,
        sha: rollout.sha,
        actor: rollout.actor,
        env,
        grant: grantFor(deps.config, rollout.repo.fullName, env),
        rendered: await deps.store.rendered(rollout.id, ctx.cluster),
      },
      jobId: `release-${rollout.id}-${ctx.cluster}`,
      timeoutMs: durationMs(deps.config.agentTimeout),
      progress: (d) => progress.update(d),
      newer,
    });
    if (outcome.kind !== "failed" || outcome.result === undefined || env.onFailure !== "rollback") return outcome;
    deps.log.warn(
      { rollout: rollout.id, cluster: ctx.cluster, reason: outcome.error },
      "release did not become healthy",
    );
    const rollback = await rollBackOnAgent(ctx, agents, outcome.error, rollbackTo, newer, progress);
    deps.log.info(
      { rollout: rollout.id, cluster: ctx.cluster, rollback: rollback.sha, state: rollback.state },
      "rolled back",
    );
    return { ...outcome, rollback };
  } finally {
    newer.stop();
    await progress.settled();
  }
}

/**
 * Rolls an agent cluster back to `target`, the last successful release its agent named: the commit
 * is rendered here (it needs the forge), as for a direct cluster, and released through the agent as a
 * rollback of the failed commit (recorded as `<actor> (rollback of <sha>)`), with its own health wait.
 * Never throws: any error is the rollback's failure, reported beside the release's own.
 */
async function rollBackOnAgent(
  ctx: ReleaseContext,
  agents: NonNullable<ReleaseDeps["agents"]>,
  error: string,
  target: string | undefined,
  newer: ReturnType<typeof watchForNewerRollout>,
  progress: ProgressStatus,
): Promise<RollbackOutcome> {
  const { rollout, env, deps } = ctx;
  if (target === undefined) return { state: "none", message: "no earlier successful release to roll back to" };
  progress.update(`rolling back: ${error.split("\n")[0] ?? ""}`);
  const checkouts = new Checkouts((await forgeAndReporter(rollout.repo, deps)).forge);
  let rendered: RenderedObject[];
  try {
    rendered = await renderEarlier(ctx, checkouts, target);
  } catch (renderError) {
    return { sha: target, state: "failure", message: (renderError as Error).message };
  } finally {
    await checkouts.dispose();
  }
  const outcome = await releaseThroughAgent({
    agents,
    request: {
      rolloutId: rollout.id,
      cluster: ctx.cluster,
      repository: rollout.repo.fullName,
      sha: target,
      actor: `${rollout.actor} (rollback of ${rollout.sha.slice(0, 7)})`,
      env,
      grant: grantFor(deps.config, rollout.repo.fullName, env),
      rendered,
      rollbackOf: rollout.sha,
    },
    jobId: `rollback-${rollout.id}-${ctx.cluster}`,
    timeoutMs: durationMs(deps.config.agentTimeout),
    progress: (d) => progress.update(`rolling back: ${d}`),
    newer,
  }).catch((sendError: unknown): ClusterOutcome => ({ kind: "failed", sha: target, error: String(sendError) }));
  switch (outcome.kind) {
    case "released":
    case "already-released":
      return { sha: target, state: "success", message: "", ...("result" in outcome ? { result: outcome.result } : {}) };
    case "superseded":
      return {
        sha: target,
        state: "superseded",
        message: "a newer release took the environment",
        ...(outcome.result === undefined ? {} : { result: outcome.result }),
      };
    case "skipped":
      return { sha: target, state: "failure", message: outcome.reason };
    case "unreachable":
      return { sha: target, state: "failure", message: outcome.error };
    case "failed":
      return {
        sha: target,
        state: "failure",
        message: outcome.error,
        ...(outcome.result === undefined ? {} : { result: outcome.result }),
      };
  }
}

/**
 * Waits until the release's workloads are up and records the verdict: released (naming what is
 * suspended: a paused Deployment does not fail a release, it is reported beside it); superseded (a
 * newer rollout took the environment and ended the wait); or failed, naming the object and reason,
 * after rolling back to the last good release when the environment asks for it. Messages from the
 * cluster are masked of `secrets`, the forms of SOPS-decrypted values the release holds.
 */
async function gateOnHealth(
  ctx: ReleaseContext,
  session: ReleaseSession,
  result: ReleaseResult,
  timeoutMs: number,
  secrets: string[],
): Promise<ClusterOutcome> {
  const { rollout, env, deps } = ctx;
  const newer = watchForNewerRollout(deps.store, rollout);
  try {
    const health = await withProgress(
      (d) => ctx.progress(d),
      (onProgress) =>
        waitForHealth(session.target.client, result.objects, { timeoutMs, signal: newer.signal, onProgress, secrets }),
    );
    if (health.kind === "healthy") {
      await session.record("success");
      const suspended = health.suspended.map((s) => ({ ref: s.ref, message: s.health.message }));
      return {
        kind: "released",
        sha: rollout.sha,
        result: changes(result),
        ...(suspended.length > 0 ? { suspended } : {}),
      };
    }
    if (health.kind === "cancelled") {
      await session.record("superseded");
      return { kind: "superseded", sha: rollout.sha, by: newer.newer() ?? rollout.sha, result: changes(result) };
    }
    await session.record("failure", health.message.slice(0, 200));
    deps.log.warn(
      { rollout: rollout.id, cluster: ctx.cluster, reason: health.message },
      "release did not become healthy",
    );
    let rollback: RollbackOutcome | undefined;
    if (env.onFailure === "rollback") {
      await ctx.progress(`rolling back: ${health.message}`);
      const checkouts = new Checkouts((await forgeAndReporter(rollout.repo, deps)).forge);
      try {
        rollback = await withProgress(
          (d) => ctx.progress(`rolling back: ${d}`),
          (onProgress) =>
            rollBack(session, {
              failedSha: rollout.sha,
              actor: rollout.actor,
              renderAt: (sha) => renderEarlier(ctx, checkouts, sha),
              timeoutMs,
              signal: newer.signal,
              onProgress,
            }),
        );
      } finally {
        await checkouts.dispose();
      }
      deps.log.info(
        { rollout: rollout.id, cluster: ctx.cluster, rollback: rollback.sha, state: rollback.state },
        "rolled back",
      );
    }
    return {
      kind: "failed",
      sha: rollout.sha,
      error: [health.message, ...health.details].join("\n"),
      result: changes(result),
      ...(rollback ? { rollback } : {}),
    };
  } finally {
    newer.stop();
  }
}

/** An earlier commit rendered for this cluster, as that commit's `.ferry.yml` declares the environment (in the same namespace, where its history lives). */
async function renderEarlier(ctx: ReleaseContext, checkouts: Checkouts, sha: string): Promise<RenderedObject[]> {
  const { deps } = ctx;
  const input = {
    checkouts,
    renderer: deps.renderer,
    config: deps.config,
    repo: ctx.rollout.repo,
    sha,
    environment: ctx.env.name,
    cluster: ctx.cluster,
    namespace: ctx.env.namespace,
  };
  return (await renderAt(input)).rendered;
}

/** Runs `wait`, posting its progress as a throttled running status, and returns once the last post landed. */
async function withProgress<T>(
  post: (description: string) => Promise<void>,
  wait: (onProgress: (description: string) => void) => Promise<T>,
): Promise<T> {
  const progress = new ProgressStatus(post);
  try {
    return await wait((description) => progress.update(description));
  } finally {
    await progress.settled();
  }
}

/** What a release changed, without the list of every object it holds. */
function changes(result: ReleaseResult): Omit<ReleaseResult, "objects"> {
  const { objects: _, ...rest } = result;
  return rest;
}
