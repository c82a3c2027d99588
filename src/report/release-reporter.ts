import type { Logger } from "pino";
import { frozenStatus } from "./freeze-words.js";
import type { ClusterOutcome } from "../domain/release.js";
import type { DeployTrigger } from "../domain/requests.js";
import type { ClusterProgress, Rollout, RolloutSummary } from "../domain/rollout.js";
import { FINAL_ROLLOUT_STATES } from "../domain/rollout.js";
import type { DeclaredEnvironment } from "../config/ferry-config.js";
import type { CommitStatus, DeploymentState, Forge, StatusState } from "../forge/types.js";
import type { Metrics } from "../metrics/metrics.js";
import { withLock } from "../queue/environment-lock.js";
import type { RedisClient } from "../queue/redis-connection.js";
import type { ReportTarget, RolloutStore } from "../rollout/rollout-store.js";
import {
  caughtUpHead,
  deployContext,
  failureDescription,
  firstLine,
  releasedDescription,
  resultComment,
  resultMarker,
  short,
  supersededDescription,
  type EnvironmentOutcome,
} from "./deploy-report.js";
import { DeploymentSender, isFinalDeploymentState, type DeploymentUpdate } from "./deployment-sender.js";
import { deploymentState } from "./deployment-state.js";
import { fleetSection } from "./fleet-comment.js";
import { SHORT_LOCK_MS } from "./final-status-once.js";
import { clip } from "./clip.js";
import { fleetStatus, STATUS_LENGTH } from "./fleet-status.js";
import { StatusSender, type UndeliveredStatus } from "./status-sender.js";

/**
 * How long a `queued` (or any intermediate) deploy status waits before it is sent: a release that
 * ends sooner shows only its final status, the commit's first write (GitHub spaces writes a second
 * apart, so a `queued` sent first made every quick release's final status a second late).
 */
const HOLD_INTERMEDIATE_MS = 1_000;

/** Where a rollout's page is: `<publicUrl>/rollouts/<id>`. */
export function rolloutUrl(publicUrl: string, id: string): string {
  return `${publicUrl.replace(/\/$/, "")}/rollouts/${id}`;
}

/** How often a fleet's status moves while clusters finish (wave changes and final states are posted at once). */
const FLEET_PROGRESS_MS = 2_000;

/** What a {@link ReleaseReporter} tells about reports the forge did not take. */
export interface ReporterOptions {
  /** Where statuses and comments the forge refused (or that kept failing) are logged. */
  log: Logger;
  /** Counts them (`ferry_report_failures_total`). */
  metrics?: Metrics;
}

/**
 * Everything a deploy tells the forge: the commit status of each environment (`ferry/deploy/<env>`)
 * on every commit a rollout reports to, and the result comment on every change merged as one of
 * them, with all their words. Jobs say what happened; the reporter decides what the forge shows.
 * The forge it is given freezes each commit's final deploy status (see finalStatusOnce).
 *
 * Each rollout also has a deployment record on the forge (GitHub's deployments, GitLab's
 * environments and deployments) for its environment and commit: queued when the rollout is made,
 * in progress while it releases, then success, failure, or inactive when it was superseded, aborted
 * or blocked.
 *
 * Statuses and deployment states are sent beside the job's work (StatusSender, DeploymentSender): a
 * status method returns once they are queued, never waiting for the forge, and the job awaits
 * `settled` before it ends.
 */
export class ReleaseReporter {
  private readonly statuses: StatusSender;
  private readonly deployments: DeploymentSender;
  /** Whether this job queued a final deployment state, which its end waits for. */
  private finalDeploymentPosted = false;
  /** Each rollout's declared environment, read once per reporter (how its deployment is shown). */
  private readonly declared = new Map<string, Promise<DeclaredEnvironment | undefined>>();
  /** Deployment states waiting for their rollout's declaration before they are queued. */
  private readonly pendingDeclared: Promise<void>[] = [];

  /** Binds the reporter to one repository's forge, the rollouts and where Ferry is reached. */
  constructor(
    private readonly forge: Forge,
    private readonly store: RolloutStore,
    private readonly redis: RedisClient,
    private readonly publicUrl: string,
    private readonly options: ReporterOptions,
  ) {
    this.statuses = new StatusSender((sha, status) => forge.setStatus(sha, status), {
      holdMs: HOLD_INTERMEDIATE_MS,
      onUndelivered: (u) => this.undelivered(u),
      onRetry: ({ sha, status, error, attempt, retryInMs }) =>
        options.log.warn(
          { sha, context: status.context, state: status.state, attempt, err: error },
          `a ${status.context} status on ${short(sha)} could not be sent (try ${attempt}); trying again in ${retryInMs / 1000} s`,
        ),
    });
    // Deployment states yield to the job's commit statuses, which people wait for.
    this.deployments = new DeploymentSender(forge, redis, { onUndelivered: (u) => this.deploymentUndelivered(u) }, () =>
      this.statuses.idle(),
    );
  }

  /** Resolves once every status and deployment state queued so far was sent (or given up); rejects when a final one could not be sent yet (see StatusSender). */
  async settled(): Promise<void> {
    while (this.pendingDeclared.length > 0) await Promise.all(this.pendingDeclared.splice(0));
    // Intermediate deployment states go on in the background: they wait behind every commit status
    // of the installation (GitHub spaces writes), and a job waiting for them would hold the next job's
    // final status back. A final state is awaited, so it is never lost.
    const results = await Promise.allSettled([
      this.statuses.settled(),
      this.finalDeploymentPosted ? this.deployments.settled() : Promise.resolve(),
    ]);
    for (const result of results) if (result.status === "rejected") throw result.reason;
  }

  /** A rollout was made: its deployment record is created, queued (waiting for the environment before it, when it comes after one). */
  rolloutCreated(rollout: RolloutSummary): void {
    const description =
      rollout.state === "waiting" ? `waiting for ${rollout.after ?? "the environment before"}` : "queued";
    this.deployment(rollout, "queued", description);
  }

  /** A deploy was queued: each environment pending on the merged commit (saying so when a reconcile queued it). */
  queued(sha: string, environments: string[], trigger?: DeployTrigger): void {
    const description =
      trigger === "reconcile" ? `queued by reconcile: no webhook was received for ${short(sha)}` : "queued";
    for (const env of environments) this.setStatus(sha, { context: deployContext(env), state: "pending", description });
  }

  /** The environment is frozen: each commit's release waits until the freeze ends (pending, saying until when and why). */
  frozen(targets: ReportTarget[], environment: string, until: number, reason: string): void {
    for (const { sha } of unique(targets))
      this.setStatus(sha, {
        context: deployContext(environment),
        state: "pending",
        description: clip(frozenStatus(until, reason), STATUS_LENGTH),
      });
  }

  /** The commit's files or configuration could not be read: nothing was deployed. */
  async configError(targets: ReportTarget[], message: string): Promise<void> {
    for (const { sha } of unique(targets))
      this.setStatus(sha, { context: "ferry/deploy", state: "failure", description: firstLine(message) });
    const body = (sha: string) =>
      [
        resultMarker(sha),
        `### Ferry release · \`${short(sha)}\``,
        "",
        "Nothing was deployed: the commit's files could not be read safely, or its configuration is invalid.",
        "",
        "```",
        message,
        "```",
      ].join("\n");
    for (const t of targets)
      if (t.change !== undefined) await this.forge.ensureComment(t.change, resultMarker(t.sha), body(t.sha));
  }

  /**
   * The deploy job could not do its work (the forge refused a read, or it kept failing until the
   * retries were spent): `ferry/deploy` fails with the reason, in the forge's words, and, when no
   * environment started (whose rollouts own the result comment), the comment says so. Never throws:
   * a comment the forge refuses too is logged and counted.
   */
  async deployFailed(targets: ReportTarget[], message: string, started: string[]): Promise<void> {
    for (const { sha } of unique(targets))
      this.setStatus(sha, { context: "ferry/deploy", state: "failure", description: firstLine(message) });
    if (started.length > 0) return;
    const body = (sha: string) =>
      [
        resultMarker(sha),
        `### Ferry release · \`${short(sha)}\``,
        "",
        "Nothing was deployed: Ferry could not read what to deploy.",
        "",
        "```",
        message,
        "```",
      ].join("\n");
    for (const t of targets) {
      if (t.change === undefined) continue;
      const change = t.change;
      await this.forge
        .ensureComment(change, resultMarker(t.sha), body(t.sha))
        .catch((error: unknown) => this.commentUndelivered(change, error));
    }
  }

  /** An environment could not start its rollout (no cluster matched, policy, render): its status fails with the reason. */
  async environmentError(targets: ReportTarget[], environment: string, message: string): Promise<void> {
    for (const { sha } of unique(targets))
      this.setStatus(sha, { context: deployContext(environment), state: "failure", description: firstLine(message) });
    const body = (sha: string) =>
      [
        resultMarker(sha),
        `### Ferry release · \`${short(sha)}\``,
        "",
        `**${environment} failed**; nothing was deployed to it:`,
        "",
        "```",
        message,
        "```",
      ].join("\n");
    for (const t of targets)
      if (t.change !== undefined) await this.forge.ensureComment(t.change, resultMarker(t.sha), body(t.sha));
  }

  /** A one-cluster release's progress (deploying, waiting for health, rolling back), as a running status. */
  async progress(rollout: RolloutSummary, description: string): Promise<void> {
    await this.post(rollout, "running", () => description);
    this.deployment(rollout, "in_progress", description);
  }

  /** A cluster's release failed for a reason that may pass and will be tried again. */
  async retrying(rollout: RolloutSummary, attempt: { number: number; of: number }, message: string): Promise<void> {
    if (!rollout.single) return;
    await this.post(
      rollout,
      "pending",
      () => `retrying (attempt ${attempt.number}/${attempt.of}): ${firstLine(message)}`,
    ).catch(() => undefined);
  }

  /** A cluster of a fleet finished: the environment's counts move (at most every 2 s across all workers). */
  async clusterFinished(rollout: RolloutSummary): Promise<void> {
    if (rollout.single || !(await this.store.throttle(rollout.id, "status", FLEET_PROGRESS_MS))) return;
    const full = await this.store.get(rollout.id);
    if (full) await this.rolloutChanged(full);
  }

  /** The rollout moved (a wave began or ended, a gate, a final state): its status, and at wave ends and the end its comment. */
  async rolloutChanged(rollout: Rollout, options: { comment?: boolean } = {}): Promise<void> {
    if (rollout.single) {
      if (rollout.state === "waiting") {
        const description = `waiting for ${rollout.after ?? "the environment before"} to release ${short(rollout.sha)}`;
        await this.post(rollout, "pending", () => description);
        this.deployment(rollout, "queued", description);
      }
      if (FINAL_ROLLOUT_STATES.has(rollout.state)) await this.finishSingle(rollout);
    } else {
      const view = { rollout, clusters: await this.store.clusters(rollout.id) };
      const { state, description } = fleetStatus(view);
      await this.post(rollout, state, () => description, rolloutUrl(this.publicUrl, rollout.id));
      this.deployment(rollout, deploymentState(rollout, state), description);
    }
    if (options.comment || FINAL_ROLLOUT_STATES.has(rollout.state)) await this.comment(rollout);
  }

  private async finishSingle(rollout: Rollout): Promise<void> {
    const [cluster] = await this.store.clusters(rollout.id);
    const outcome = cluster?.outcome ?? {
      kind: "skipped" as const,
      sha: rollout.sha,
      reason: rollout.reason ?? rollout.state,
    };
    const { state, description } = singleFinal(outcome, rollout);
    await this.post(rollout, state, (sha) => description(sha));
    this.deployment(rollout, deploymentState(rollout, state), description(rollout.sha));
  }

  /**
   * Rewrites the result comment of every change the rollout reports to, from every rollout of its
   * commit, once the statuses queued so far were sent: on GitHub a comment taking the write slot
   * first would hold the final status a second.
   */
  async comment(rollout: Rollout): Promise<void> {
    await this.statuses.idle();
    for (const target of await this.store.reports(rollout.id)) {
      if (target.change === undefined) continue;
      const change = target.change;
      const lockKey = `ferry:lock:result-comment:${rollout.repo.forge}:${rollout.repo.fullName}:${change}:${target.sha}`;
      await withLock(
        this.redis,
        lockKey,
        async () => {
          const body = await this.resultBody(target.sha);
          await this.forge.ensureComment(change, resultMarker(target.sha), body);
        },
        { ttlMs: SHORT_LOCK_MS },
      );
    }
  }

  private async resultBody(mergedSha: string): Promise<string> {
    const rollouts = await this.store.ofCommit(this.forge.repo, mergedSha);
    const outcomes: EnvironmentOutcome[] = [];
    const sections: string[] = [];
    const budget = Math.floor((this.forge.maxCommentLength - 2_000) / Math.max(1, rollouts.length));
    for (const rollout of rollouts) {
      const clusters = await this.store.clusters(rollout.id);
      const [first] = clusters;
      if (rollout.single && first?.outcome)
        outcomes.push({ ...first.outcome, env: { name: rollout.environment, cluster: first.cluster } });
      else if (rollout.single) sections.push(`**${rollout.environment}**: ⏳ ${inProgress(rollout, first)}`);
      else sections.push(fleetSection({ rollout, clusters }, rolloutUrl(this.publicUrl, rollout.id), budget));
    }
    return resultComment(mergedSha, outcomes, sections);
  }

  /** Posts a status on every commit the rollout reports to; `describe` words it for each. */
  private async post(
    rollout: RolloutSummary,
    state: StatusState,
    describe: (sha: string) => string,
    targetUrl?: string,
  ): Promise<void> {
    const context = deployContext(rollout.environment);
    for (const { sha } of unique(await this.store.reports(rollout.id))) {
      this.setStatus(sha, {
        context,
        state,
        description: describe(sha),
        ...(targetUrl === undefined ? {} : { targetUrl }),
      });
    }
  }

  /**
   * Queues a state of the rollout's deployment record (for its environment at its commit), shown as
   * the environment's `deployment:` block says; a rollout whose declaration is gone is not shown.
   */
  private deployment(rollout: RolloutSummary, state: DeploymentState, description: string): void {
    let declared = this.declared.get(rollout.id);
    if (declared === undefined)
      this.declared.set(rollout.id, (declared = this.store.declared(rollout.id).catch(() => undefined)));
    const logUrl = rolloutUrl(this.publicUrl, rollout.id);
    // Read before the update is queued, so updates of one rollout keep their order.
    const queued = declared.then((env) => {
      if (env === undefined) return;
      const options = env.deployment ?? {};
      const update: DeploymentUpdate = {
        target: {
          environment: rollout.environment,
          sha: rollout.sha,
          branch: rollout.branch,
          rolloutId: rollout.id,
          production: options.production ?? false,
          transient: options.transient ?? false,
          ...(options.url === undefined ? {} : { url: options.url }),
        },
        state,
        details: { description, logUrl, ...(options.url === undefined ? {} : { environmentUrl: options.url }) },
        madeAt: Date.now(),
      };
      this.deployments.post(update);
      if (isFinalDeploymentState(state)) this.finalDeploymentPosted = true;
    });
    this.pendingDeclared.push(queued);
  }

  /** Queues one status for the sender. */
  private setStatus(sha: string, status: CommitStatus): void {
    this.statuses.post(sha, status);
  }

  /** A status the forge refused, or that kept failing: logged (loudly unless a later status replaces it) and counted. */
  private undelivered({ sha, status, error, refused }: UndeliveredStatus): void {
    const fields = { sha, context: status.context, state: status.state, description: status.description, err: error };
    if (refused)
      this.options.log.error(
        fields,
        `the forge refused Ferry's ${status.context} status on ${short(sha)}: it shows an older one, or none`,
      );
    else if (status.state === "success" || status.state === "failure")
      this.options.log.error(
        fields,
        `the final ${status.context} status on ${short(sha)} could not be sent; the job is retried to send it`,
      );
    else
      this.options.log.warn(
        fields,
        `a ${status.context} status on ${short(sha)} could not be sent; the next one replaces it`,
      );
    this.options.metrics?.reportFailed(this.forge.repo.forge, "status");
  }

  /**
   * A deployment state the forge refused (the app lacks `deployments: write`, the token its role), or
   * that kept failing: logged (at error level when final) and counted; the release is not touched.
   */
  private deploymentUndelivered({ sha, status: update, error, refused }: UndeliveredStatus<DeploymentUpdate>): void {
    const { environment } = update.target;
    const fields = { sha, environment, state: update.state, description: update.details.description, err: error };
    const what = `the ${update.state} deployment state of ${environment} at ${short(sha)}`;
    if (refused)
      this.options.log.error(fields, `the forge refused ${what}: its deployment record shows an older one, or none`);
    else if (isFinalDeploymentState(update.state))
      this.options.log.error(fields, `${what} could not be sent; the job is retried to send it`);
    else this.options.log.warn(fields, `${what} could not be sent; the next one replaces it`);
    this.options.metrics?.reportFailed(this.forge.repo.forge, "deployment");
  }

  /** A comment the forge refused while the job was already failing: logged loudly and counted. */
  private commentUndelivered(change: number, error: unknown): void {
    this.options.log.error({ change, err: error }, `the result comment on change ${change} could not be written`);
    this.options.metrics?.reportFailed(this.forge.repo.forge, "comment");
  }
}

/** The final status of a one-cluster release, worded for each commit it reports to. */
function singleFinal(
  outcome: ClusterOutcome,
  rollout: Rollout,
): { state: StatusState; description: (sha: string) => string } {
  const head = outcome.sha;
  switch (outcome.kind) {
    case "released":
      return {
        state: "success",
        description: (sha) =>
          releasedDescription(
            outcome.result,
            outcome.suspended,
            sha !== head
              ? `included in release of ${short(head)}`
              : rollout.trigger === "reconcile"
                ? caughtUpHead(head)
                : "deployed",
          ),
      };
    case "already-released":
      return {
        state: "success",
        description: (sha) =>
          sha === head
            ? `deployed ${short(head)} (released by an earlier job)`
            : `included in release of ${short(head)}`,
      };
    case "superseded":
      return { state: "success", description: () => supersededDescription(outcome.by) };
    case "failed":
      return { state: "failure", description: () => failureDescription(outcome.error, outcome.rollback) };
    case "unreachable":
      return { state: "failure", description: () => failureDescription(outcome.error) };
    case "skipped":
      return {
        state: rollout.state === "superseded" ? "success" : "failure",
        description: () =>
          rollout.state === "superseded" && rollout.supersededBy
            ? supersededDescription(rollout.supersededBy)
            : `not released: ${outcome.reason}`,
      };
  }
}

function inProgress(rollout: Rollout, cluster: ClusterProgress | undefined): string {
  if (rollout.state === "waiting")
    return `waiting for ${rollout.after ?? "the environment before"} to release \`${short(rollout.sha)}\``;
  return cluster?.state === "releasing" ? `releasing \`${short(rollout.sha)}\` to ${cluster.cluster}` : `queued`;
}

function unique(targets: ReportTarget[]): ReportTarget[] {
  return [...new Map(targets.map((t) => [t.sha, t])).values()];
}
