import { rolloutAuditEntry } from "../audit/rollout-audit-entry.js";
import { DelayedError, WaitingChildrenError, type Job } from "bullmq";
import type { Rollout, RolloutState } from "../domain/rollout.js";
import { FINAL_ROLLOUT_STATES } from "../domain/rollout.js";
import type { Forge } from "../forge/types.js";
import type { RetryBudget, RolloutJobData } from "../queue/queues.js";
import type { ReleaseReporter } from "../report/release-reporter.js";
import { nextStep } from "../rollout/next-step.js";
import { forgeAndReporter, reportingTo, type ReleaseDeps } from "./release-deps.js";

/** How often a rollout waiting for the environment it comes after looks again. */
const AFTER_POLL_MS = 1_000;
/** How long a wave waits for approval before Ferry looks again (`/ferry continue` wakes it at once). */
const APPROVAL_RECHECK_MS = 24 * 3600_000;

/** One step of a rollout's job, shared by what it calls. */
interface RolloutContext {
  job: Job<RolloutJobData>;
  token: string;
  deps: ReleaseDeps;
  forge: Forge;
  reporter: ReleaseReporter;
  retry: RetryBudget;
}

/**
 * Runs a rollout as BullMQ step job: each run takes the rollout as far as it can go now — wait for
 * the environment it comes after, start the next clusters of the wave (as child jobs), wait for
 * them, pass the wave's gate, advance — then parks the job (waiting for its children, or delayed
 * until a pause ends) and returns when the rollout reached a final state. Its progress lives in
 * Redis, so a worker killed at any point loses nothing: the job runs again and carries on.
 */
export async function runRolloutJob(job: Job<RolloutJobData>, token: string, deps: ReleaseDeps): Promise<RolloutState> {
  const rollout = await deps.store.get(job.data.rolloutId);
  if (!rollout) return "failed";
  const { forge, reporter } = await forgeAndReporter(rollout.repo, deps);
  const ctx: RolloutContext = {
    job,
    token,
    deps,
    forge,
    reporter,
    retry: {
      attempts: job.opts.attempts ?? 1,
      ...(job.opts.backoff === undefined ? {} : { backoff: job.opts.backoff }),
    },
  };
  let current = rollout;
  // Statuses go out beside the steps; the job ends (or parks) once they were sent.
  return reportingTo(reporter, async () => {
    // A rollout already final when its job runs was ended by an earlier attempt whose report failed
    // part way (the forge was down): report it again (final statuses are frozen, comments edited).
    if (FINAL_ROLLOUT_STATES.has(current.state)) await reporter.rolloutChanged(current, { comment: true });
    while (!FINAL_ROLLOUT_STATES.has(current.state)) current = await step(ctx, current);
    return current.state;
  });
}

/** Takes one step; throws BullMQ's park errors when the rollout must wait. */
async function step(ctx: RolloutContext, rollout: Rollout): Promise<Rollout> {
  const { store } = ctx.deps;
  const current = await store.current(rollout.repo, rollout.environment);
  if (current !== undefined && current !== rollout.id) {
    const by = (await store.get(current))?.sha;
    return finish(
      ctx,
      rollout,
      "superseded",
      `a newer commit${by ? ` (${by.slice(0, 7)})` : ""} took the environment`,
      by,
    );
  }
  const abortedBy = await store.abortedBy(rollout.id);
  if (abortedBy !== undefined) return finish(ctx, rollout, "aborted", `aborted by @${abortedBy}`);
  if (rollout.state === "waiting") return promotionGate(ctx, rollout);

  const counts = await store.counts(rollout.id, rollout.waves.length);
  const continued = (await store.continuedBy(rollout.id, rollout.wave)) !== undefined;
  const next = nextStep(rollout, counts, Date.now(), continued);
  switch (next.kind) {
    case "start":
      await startClusters(ctx, rollout, next.wave.index, next.count);
      return rollout;
    case "wait":
      await parking(ctx);
      if (await ctx.job.moveToWaitingChildren(ctx.token)) throw new WaitingChildrenError();
      await recoverLostReleases(ctx, rollout);
      return rollout;
    case "pause":
    case "approve": {
      const state = next.kind === "pause" ? "paused" : "awaiting-approval";
      const until = next.kind === "pause" ? next.until : Date.now() + APPROVAL_RECHECK_MS;
      if (rollout.state !== state) {
        rollout = await store.update(rollout.id, { state, ...(next.kind === "pause" ? { pausedUntil: until } : {}) });
        await ctx.reporter.rolloutChanged(rollout, { comment: true });
      }
      await parking(ctx);
      await ctx.job.moveToDelayed(until, ctx.token);
      await wakeIfAsked(ctx, rollout);
      throw new DelayedError();
    }
    case "advance": {
      ctx.deps.metrics?.waveFinished(
        rollout.environment,
        (Date.now() - (rollout.waveStartedAt ?? rollout.createdAt)) / 1000,
      );
      rollout = await store.update(rollout.id, {
        state: "running",
        wave: next.wave,
        pausedUntil: undefined,
        waveStartedAt: Date.now(),
      });
      await ctx.reporter.rolloutChanged(rollout, { comment: true });
      return rollout;
    }
    case "finish":
      return finish(ctx, rollout, next.state, next.reason);
  }
}

/**
 * Before the job parks, its statuses are sent: once parked it may run again (on any worker) as soon
 * as its delay ends or its children are done, and this run must have finished reporting by then.
 */
async function parking(ctx: RolloutContext): Promise<void> {
  await ctx.reporter.settled();
}

/**
 * A command (`/ferry continue`, `/ferry abort`) or a newer rollout that came while this step was
 * parking the job found it not yet delayed, so nobody woke it: wake it now.
 */
async function wakeIfAsked(ctx: RolloutContext, rollout: Rollout): Promise<void> {
  const { store } = ctx.deps;
  const current = await store.current(rollout.repo, rollout.environment);
  const asked =
    (await store.continuedBy(rollout.id, rollout.wave)) !== undefined ||
    (await store.abortedBy(rollout.id)) !== undefined ||
    (current !== undefined && current !== rollout.id);
  if (asked) await ctx.deps.queues.wakeRollout(rollout.id);
}

/** A rollout `after` another environment starts once that environment's rollout of the same commit succeeded. */
async function promotionGate(ctx: RolloutContext, rollout: Rollout): Promise<Rollout> {
  const { store } = ctx.deps;
  const before = rollout.after === undefined ? undefined : await store.idOf(rollout.repo, rollout.after, rollout.sha);
  const earlier = before === undefined ? undefined : await store.get(before);
  if (earlier?.state === "succeeded") {
    const next = await store.update(rollout.id, { state: "running" });
    await ctx.reporter.rolloutChanged(next);
    return next;
  }
  if (earlier && FINAL_ROLLOUT_STATES.has(earlier.state)) {
    return finish(
      ctx,
      rollout,
      "blocked",
      `${rollout.after} did not release ${rollout.sha.slice(0, 7)} (${earlier.state}${earlier.reason ? `: ${earlier.reason}` : ""})`,
    );
  }
  if (await store.throttle(rollout.id, "waiting-reported", 3_600_000)) await ctx.reporter.rolloutChanged(rollout);
  await parking(ctx);
  await ctx.job.moveToDelayed(Date.now() + AFTER_POLL_MS, ctx.token);
  throw new DelayedError();
}

/** Marks the next `count` pending clusters of the wave releasing and queues their jobs as children of this one. */
async function startClusters(ctx: RolloutContext, rollout: Rollout, wave: number, count: number): Promise<void> {
  const { store } = ctx.deps;
  const plan = rollout.waves[wave];
  if (!plan) return;
  const states = await store.clusterStates(rollout.id, plan.clusters);
  const offset = rollout.waves.slice(0, wave).reduce((n, w) => n + w.clusters.length, 0);
  const picked = plan.clusters
    .map((cluster, i) => ({ cluster, index: offset + i }))
    .filter((c) => states.get(c.cluster) === "pending")
    .slice(0, count);
  await store.setClusters(
    rollout.id,
    picked.map(({ cluster }) => ({ cluster, wave, state: "releasing", startedAt: Date.now() })),
  );
  const agents = new Set(ctx.deps.config.clusters.filter((c) => c.agent).map((c) => c.name));
  await ctx.deps.queues.addReleases(
    ctx.job,
    picked.map(({ cluster, index }) => ({ rolloutId: rollout.id, cluster, wave, index, agent: agents.has(cluster) })),
    ctx.retry,
  );
  ctx.deps.log.info(
    { rollout: rollout.id, environment: rollout.environment, wave: plan.name, clusters: picked.length },
    "clusters started",
  );
}

/**
 * Children are all done but some clusters still read `releasing`: their jobs failed without
 * recording an outcome (stalled too often). They count as failed, with the job's reason.
 */
async function recoverLostReleases(ctx: RolloutContext, rollout: Rollout): Promise<void> {
  const { store } = ctx.deps;
  const plan = rollout.waves[rollout.wave];
  if (!plan) return;
  const failures: Record<string, string> = await ctx.job.getFailedChildrenValues().catch(() => ({}));
  const reason = Object.values(failures)[0] ?? "its release job failed";
  const states = await store.clusterStates(rollout.id, plan.clusters);
  for (const cluster of plan.clusters) {
    if (states.get(cluster) !== "releasing") continue;
    await store.finishCluster(rollout.id, cluster, rollout.wave, { kind: "failed", sha: rollout.sha, error: reason });
  }
}

/** Ends the rollout: clusters never started are skipped (or superseded), then the final status and comment. */
async function finish(
  ctx: RolloutContext,
  rollout: Rollout,
  state: RolloutState,
  reason?: string,
  supersededBy?: string,
): Promise<Rollout> {
  const { store } = ctx.deps;
  const outcome =
    state === "superseded" && supersededBy
      ? { kind: "superseded" as const, sha: rollout.sha, by: supersededBy }
      : { kind: "skipped" as const, sha: rollout.sha, reason: reason ?? state };
  for (const plan of rollout.waves.slice(rollout.wave)) {
    const states = await store.clusterStates(rollout.id, plan.clusters);
    const untouched = plan.clusters.filter((cluster) => states.get(cluster) === "pending");
    await store.setClusters(
      rollout.id,
      untouched.map((cluster) => ({ cluster, wave: plan.index, state: outcome.kind, finishedAt: Date.now(), outcome })),
    );
  }
  if (state === "succeeded" || state === "failed")
    ctx.deps.metrics?.waveFinished(
      rollout.environment,
      (Date.now() - (rollout.waveStartedAt ?? rollout.createdAt)) / 1000,
    );
  const done = await store.update(rollout.id, {
    state,
    finishedAt: Date.now(),
    ...(reason === undefined ? {} : { reason }),
    ...(supersededBy === undefined ? {} : { supersededBy }),
  });
  ctx.deps.log.info(
    { rollout: rollout.id, environment: rollout.environment, sha: rollout.sha, state, reason },
    "rollout finished",
  );
  ctx.deps.metrics?.rolloutFinished(rollout.environment, state);
  await auditRollout(ctx, done);
  // Queued before the final report, so whoever sees the final status knows which changes it re-plans.
  if (state !== "superseded" && state !== "blocked") await refreshPlans(ctx, done);
  await ctx.reporter.rolloutChanged(done, { comment: true });
  return done;
}

/** Records the rollout's end in the audit trail (never failing the rollout: the trail logs what it could not write). */
async function auditRollout(ctx: RolloutContext, rollout: Rollout): Promise<void> {
  const { store } = ctx.deps;
  try {
    const counts = await store.counts(rollout.id, rollout.waves.length);
    const change = (await store.reports(rollout.id)).find((t) => t.change !== undefined)?.change;
    await ctx.deps.audit.record(rolloutAuditEntry(rollout, counts, change));
  } catch (error) {
    ctx.deps.log.error(
      { err: error, rollout: rollout.id },
      `audit record of the rollout not written: ${String(error)}`,
    );
    ctx.deps.metrics?.auditWriteFailed("rollout");
  }
}

/**
 * The cluster may have changed under the plans of the open changes into the rollout's branch:
 * re-plan them (debounced; a plan that came out the same is not rewritten). Listing them is
 * decoration: when the forge cannot, the rollout still ends as it did, and the log says why.
 */
async function refreshPlans(ctx: RolloutContext, rollout: Rollout): Promise<void> {
  const { store, queues, log } = ctx.deps;
  try {
    const branch = (await store.declared(rollout.id)).branch;
    const open = await ctx.forge.openChanges(branch);
    await queues.refreshPlans(
      open.map((change) => ({
        repo: rollout.repo,
        change: change.number,
        headSha: change.headSha,
        baseBranch: branch,
        actor: change.author,
        deliveryId: `refresh-${rollout.id}`,
        fromFork: change.fromFork,
      })),
    );
    if (open.length > 0)
      log.info(
        { rollout: rollout.id, branch, changes: open.map((c) => c.number) },
        "open changes re-planned after the rollout",
      );
  } catch (error) {
    log.warn({ err: error, rollout: rollout.id }, "could not re-plan the open changes after the rollout");
  }
}
