import type { ReconcileOutcome } from "../domain/reconcile.js";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ForgeKind } from "../domain/repo.js";
import { CLUSTER_STATES, FINAL_ROLLOUT_STATES, type ClusterCounts, type RolloutState } from "../domain/rollout.js";
import type { EnvironmentPlan } from "../plan/types.js";
import type { EnvironmentOutcome } from "../report/deploy-report.js";

/** Why a webhook delivery was refused (the forge sees a failed delivery). */
export type WebhookRejection = "authentication" | "malformed" | "content-type" | "too-large" | "queue-unavailable";

/** What an accepted webhook became: a queued job of a kind, or nothing Ferry acts on. */
export type WebhookAcceptance = "deploy" | "plan" | "command" | "ignored";

/** How one job run ended: completed (including releases reported as failed), failed for good, or failed and retrying. */
export type JobResult = "completed" | "failed" | "retrying";

/** Webhook counters of one forge, for its intake route. */
export interface WebhookMetrics {
  /** A delivery reached the endpoint (before any check). */
  received(): void;
  /** A delivery was refused. */
  rejected(reason: WebhookRejection): void;
  /** A delivery was accepted: queued as a job, or ignored with 202. */
  accepted(intent: WebhookAcceptance): void;
}

/** Forge API counters of one forge, for its client. */
export interface ForgeApiMetrics {
  /** One API call finished; `status` is the HTTP status, undefined when no answer came. */
  call(endpoint: string, status: number | undefined): void;
  /** The client waits `seconds` for a rate limit to lift before retrying. */
  rateLimitWait(kind: RateLimitKind, seconds: number): void;
}

/**
 * Why a forge client waited: `primary`, GitHub's hourly quota ran out (it waits for `x-ratelimit-reset`);
 * `retry-after`, the forge refused a request and named a wait (GitHub's secondary limits, GitLab's 429,
 * a 503 during maintenance).
 */
export type RateLimitKind = "primary" | "retry-after";

/** What Ferry could not report on a forge: a commit status, a comment or a deployment state. */
export type ReportKind = "status" | "comment" | "deployment";

/** Per-queue job counts by BullMQ state, as `Queue.getJobCounts` returns them. */
export type QueueCounts = Record<string, Record<string, number>>;

/** Webhook counters that count nothing, for routes built without metrics (unit tests). */
export const noWebhookMetrics: WebhookMetrics = {
  received: () => undefined,
  rejected: () => undefined,
  accepted: () => undefined,
};

/** The queue states reported as `ferry_queue_jobs`. */
export const QUEUE_STATES = ["waiting", "prioritized", "delayed", "active", "failed"] as const;

/** How long a scrape waits for Redis to count the queues before reporting none. */
const QUEUE_COUNT_TIMEOUT_MS = 2000;

const DURATION_BUCKETS = [0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];
const WAIT_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600];
/** A wave releases many clusters, a few at a time, each waiting for health: minutes to hours. */
const WAVE_BUCKETS = [10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400];

/**
 * Ferry's Prometheus metrics, in a registry of its own (never prom-client's global one, so several
 * Ferrys can run in one process, as the tests run them). Built once by the composition root and
 * handed to the parts that count; served at `/metrics`.
 */
export class Metrics {
  /** The registry `/metrics` serves. */
  readonly registry = new Registry();

  private readonly webhooksReceived = this.counter(
    "ferry_webhooks_received_total",
    "Webhook deliveries that reached Ferry, by forge.",
    ["forge"],
  );
  private readonly webhooksRejected = this.counter(
    "ferry_webhooks_rejected_total",
    "Webhook deliveries refused, by forge and reason (authentication, malformed, content-type, too-large, queue-unavailable).",
    ["forge", "reason"],
  );
  private readonly webhooksAccepted = this.counter(
    "ferry_webhooks_accepted_total",
    "Webhook deliveries accepted, by forge and what they became (deploy, plan, command job, or ignored).",
    ["forge", "intent"],
  );
  private readonly jobs = this.counter(
    "ferry_jobs_total",
    "Job runs, by queue and result (completed, failed, retrying).",
    ["queue", "result"],
  );
  private readonly jobDuration = this.histogram(
    "ferry_job_duration_seconds",
    "How long one job run took, by queue and result.",
    ["queue", "result"],
    DURATION_BUCKETS,
  );
  private readonly jobWait = this.histogram(
    "ferry_job_wait_seconds",
    "How long a new job waited in its queue before a worker started it, by queue.",
    ["queue"],
    WAIT_BUCKETS,
  );
  private readonly releases = this.counter(
    "ferry_releases_total",
    "Environment releases, by environment, cluster and result (the deploy outcome: released, already-released, superseded, failed, unreachable).",
    ["environment", "cluster", "result"],
  );
  private readonly releaseDuration = this.histogram(
    "ferry_release_duration_seconds",
    "Duration of the deploy job that released an environment, by environment and result.",
    ["environment", "result"],
    DURATION_BUCKETS,
  );
  private readonly rolloutClusterGauge = this.gauge(
    "ferry_rollout_clusters",
    "Clusters of the environment's latest fleet rollout reported by this process, by environment and state (pending, releasing, released, already-released, superseded, skipped, failed, unreachable).",
    ["environment", "state"],
  );
  private readonly waveDuration = this.histogram(
    "ferry_rollout_wave_duration_seconds",
    "How long one wave of a fleet rollout took, from its first cluster's start to its last one's end, by environment.",
    ["environment"],
    WAVE_BUCKETS,
  );
  private readonly rollouts = this.counter(
    "ferry_rollouts_total",
    "Fleet rollouts that ended, by environment and result (succeeded, failed, aborted, superseded, blocked).",
    ["environment", "result"],
  );
  private readonly plans = this.counter(
    "ferry_plans_total",
    "Environment plans, by environment, cluster and result (changes, no-changes, failed).",
    ["environment", "cluster", "result"],
  );
  private readonly planDuration = this.histogram(
    "ferry_plan_duration_seconds",
    "Duration of the plan job that planned an environment, by environment and result.",
    ["environment", "result"],
    DURATION_BUCKETS,
  );
  private readonly objectsApplied = this.counter(
    "ferry_objects_applied_total",
    "Objects written by releases, by environment and action (created, configured).",
    ["environment", "action"],
  );
  private readonly objectsPruned = this.counter(
    "ferry_objects_pruned_total",
    "Objects deleted by releases because Git no longer has them, by environment.",
    ["environment"],
  );
  private readonly forgeCalls = this.counter(
    "ferry_forge_api_calls_total",
    "Forge API calls, by forge, endpoint and status class (2xx, 4xx, 5xx, or error when no answer came).",
    ["forge", "endpoint", "status"],
  );
  private readonly rateLimitWaits = this.counter(
    "ferry_forge_rate_limit_waits_total",
    "Times a forge client waited before sending a request again, by forge and kind (primary: GitHub's quota; retry-after: a wait the forge named).",
    ["forge", "kind"],
  );
  private readonly reportFailures = this.counter(
    "ferry_report_failures_total",
    "Commit statuses and comments Ferry could not put on the forge (refused for good, or still failing after every retry), by forge and kind (status, comment).",
    ["forge", "kind"],
  );
  private readonly auditWriteFailures = this.counter(
    "ferry_audit_write_failures_total",
    "Audit records Ferry could not write to Redis (the action itself went on), by action (release, rollback, rollout, heal, approval, abort, revert, refused-command).",
    ["action"],
  );
  private readonly rateLimitSeconds = this.counter(
    "ferry_forge_rate_limit_wait_seconds_total",
    "Seconds forge clients waited for rate limits to lift, by forge and kind.",
    ["forge", "kind"],
  );
  private readonly driftedObjects = this.gauge(
    "ferry_drifted_objects",
    "Objects drifted from the last release at the last reconcile, by environment and cluster (gone and taken-over objects count, ignored ones do not; 0 once healed).",
    ["environment", "cluster"],
  );
  private readonly reconcileLastSuccess = this.gauge(
    "ferry_reconcile_last_success_timestamp_seconds",
    "When a reconcile of the environment on the cluster last completed, in Unix seconds.",
    ["environment", "cluster"],
  );
  private readonly watches = this.gauge(
    "ferry_watches",
    "Watches of managed objects this process holds for reconcile.watch (one per cluster, namespace and kind).",
    [],
  );
  private readonly catchUpDeploys = this.counter(
    "ferry_reconcile_catch_up_deploys_total",
    "Deploys a reconcile queued because no webhook was received for the branch head, by environment.",
    ["environment"],
  );
  private readonly queueJobs: Gauge<"queue" | "state"> = new Gauge({
    name: "ferry_queue_jobs",
    help: "Jobs in each queue by state (waiting, prioritized, delayed, active, failed), read from Redis at scrape time.",
    labelNames: ["queue", "state"],
    registers: [this.registry],
    collect: () => this.collectQueues(),
  });
  private queueCounts: (() => Promise<QueueCounts>) | undefined;
  private readonly cachedObjects: Gauge = new Gauge({
    name: "ferry_watch_cache_objects",
    help: "Objects this process's watch caches hold (plans and reconciles read them instead of LISTs), read at scrape time.",
    registers: [this.registry],
    collect: () => this.cachedObjects.set(this.cacheSize?.().objects ?? 0),
  });
  private readonly cachedBytes: Gauge = new Gauge({
    name: "ferry_watch_cache_bytes",
    help: "Characters of JSON this process's watch caches hold (most of their memory), read at scrape time.",
    registers: [this.registry],
    collect: () => this.cachedBytes.set(this.cacheSize?.().bytes ?? 0),
  });
  private readonly droppedCaches: Gauge = new Gauge({
    name: "ferry_watch_caches_dropped",
    help: "Watch caches of this process emptied because its caches would pass reconcile.watchCacheLimit (their collections are read from the API server), read at scrape time.",
    registers: [this.registry],
    collect: () => this.droppedCaches.set(this.cacheSize?.().dropped ?? 0),
  });
  private cacheSize: (() => { objects: number; bytes: number; dropped: number }) | undefined;
  private readonly liveObjectsRead = this.counter(
    "ferry_live_objects_read_total",
    "Live objects plans and reconciles read, by where from: a watch cache, or the API server (no fresh cache held them).",
    ["from"],
  );
  private readonly plansHandedOver = this.counter(
    "ferry_plans_handed_over_total",
    "Plan jobs this worker handed to the worker whose watch caches hold their collections, and that worker planned.",
    [],
  );
  private readonly planHandoverFallbacks = this.counter(
    "ferry_plan_handover_fallbacks_total",
    "Plans handed to another worker that this worker planned itself after all, by why: not taken in time, stalled, failed.",
    ["reason"],
  );

  /** Registers every metric, with Node's process metrics (`process_*`, `nodejs_*`). */
  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** The `Content-Type` of {@link text}. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in Prometheus' text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** Reads queue depths from `count` at each scrape (one process per role that holds the queues). */
  observeQueues(count: () => Promise<QueueCounts>): void {
    this.queueCounts = count;
  }

  /** Counters for one forge's webhook route. */
  webhooks(forge: ForgeKind): WebhookMetrics {
    return {
      received: () => this.webhooksReceived.inc({ forge }),
      rejected: (reason) => this.webhooksRejected.inc({ forge, reason }),
      accepted: (intent) => this.webhooksAccepted.inc({ forge, intent }),
    };
  }

  /** Counters for one forge's API client. */
  forgeApi(forge: ForgeKind): ForgeApiMetrics {
    return {
      call: (endpoint, status) =>
        this.forgeCalls.inc({
          forge,
          endpoint,
          status: status === undefined ? "error" : `${Math.floor(status / 100)}xx`,
        }),
      rateLimitWait: (kind, seconds) => {
        this.rateLimitWaits.inc({ forge, kind });
        this.rateLimitSeconds.inc({ forge, kind }, seconds);
      },
    };
  }

  /** One job run ended; `waitSeconds` is given for a job's first run only. */
  job(queue: string, result: JobResult, seconds: number, waitSeconds?: number): void {
    this.jobs.inc({ queue, result });
    this.jobDuration.observe({ queue, result }, seconds);
    if (waitSeconds !== undefined) this.jobWait.observe({ queue }, Math.max(0, waitSeconds));
  }

  /** What a finished release did to an environment on a cluster, and how long it took. */
  deployed(outcomes: EnvironmentOutcome[], seconds: number): void {
    for (const outcome of outcomes) {
      const environment = outcome.env.name;
      this.releases.inc({ environment, cluster: outcome.env.cluster, result: outcome.kind });
      this.releaseDuration.observe({ environment, result: outcome.kind }, seconds);
      // Any outcome that carries a release result wrote to the cluster (a release that failed its health check too).
      const result = "result" in outcome ? outcome.result : undefined;
      if (result === undefined) continue;
      this.objectsApplied.inc({ environment, action: "created" }, result.created.length);
      this.objectsApplied.inc({ environment, action: "configured" }, result.configured.length);
      this.objectsPruned.inc({ environment }, result.pruned.length);
    }
  }

  /**
   * A deploy that released nothing to `environment` (empty when the environments are unknown: the
   * forge refused a read, or the config could not be read): counted as a failed release, so the
   * alert on failed releases fires.
   */
  notReleased(environment = ""): void {
    this.releases.inc({ environment, cluster: "", result: "failed" });
  }

  /** A plan job that planned nothing for `environment` (empty when unknown): counted as a failed plan. */
  notPlanned(environment = ""): void {
    this.plans.inc({ environment, cluster: "", result: "failed" });
  }

  /** Ferry could not put a status or comment on `forge` (refused, or still failing after every retry). */
  reportFailed(forge: ForgeKind, kind: ReportKind): void {
    this.reportFailures.inc({ forge, kind });
  }

  /** An audit record of `action` could not be written: the trail has a gap. */
  auditWriteFailed(action: string): void {
    this.auditWriteFailures.inc({ action });
  }

  /** Sets `ferry_rollout_clusters` for `environment` from a rollout's cluster counts (every state, zeros included). */
  rolloutClusters(environment: string, counts: ClusterCounts): void {
    for (const state of CLUSTER_STATES) this.rolloutClusterGauge.set({ environment, state }, counts[state]);
  }

  /** One wave of a rollout of `environment` finished after `seconds`. */
  waveFinished(environment: string, seconds: number): void {
    this.waveDuration.observe({ environment }, Math.max(0, seconds));
  }

  /** A rollout of `environment` ended in `state`; a state that is not final (running, paused…) counts nothing. */
  rolloutFinished(environment: string, state: RolloutState): void {
    if (FINAL_ROLLOUT_STATES.has(state)) this.rollouts.inc({ environment, result: state });
  }

  /** What a finished plan job found for each environment, and how long it took. */
  planned(plans: EnvironmentPlan[], seconds: number): void {
    for (const plan of plans) {
      const { create, update, delete: deletes } = plan.counts;
      const result = plan.error !== undefined ? "failed" : create + update + deletes > 0 ? "changes" : "no-changes";
      this.plans.inc({ environment: plan.environment, cluster: plan.cluster, result });
      this.planDuration.observe({ environment: plan.environment, result }, seconds);
    }
  }

  /** What a completed reconcile found: its time, the drifted objects (when it looked) and a catch-up deploy. */
  reconciled(outcome: ReconcileOutcome): void {
    const labels = { environment: outcome.environment, cluster: outcome.cluster };
    if (outcome.drifted !== undefined) this.driftedObjects.set(labels, outcome.drifted);
    if (outcome.state !== "busy" && outcome.state !== "unreachable")
      this.reconcileLastSuccess.set(labels, Date.now() / 1000);
    if (outcome.caughtUp !== undefined) this.catchUpDeploys.inc({ environment: outcome.environment });
  }

  /** Reads the size of this process's watch caches from `size` at each scrape. */
  observeWatchCaches(size: () => { objects: number; bytes: number; dropped: number }): void {
    this.cacheSize = size;
  }

  /** Counts live objects a plan or reconcile read from watch caches and from the API server. */
  liveRead(read: { cached: number; asked: number }): void {
    if (read.cached > 0) this.liveObjectsRead.inc({ from: "cache" }, read.cached);
    if (read.asked > 0) this.liveObjectsRead.inc({ from: "api" }, read.asked);
  }

  /** Counts a plan another worker planned with its watch caches, handed to it by this one. */
  planHandedOver(): void {
    this.plansHandedOver.inc();
  }

  /** Counts a handed-over plan this worker planned itself after all, and why. */
  planHandoverFallback(reason: "not_taken" | "stalled" | "failed"): void {
    this.planHandoverFallbacks.inc({ reason });
  }

  /** How many watches this process holds now. */
  watching(count: number): void {
    this.watches.set(count);
  }

  /** Sets `ferry_queue_jobs` from Redis; reports no series when Redis does not answer in time (a scrape must not hang on it). */
  private async collectQueues(): Promise<void> {
    this.queueJobs.reset();
    if (this.queueCounts === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>(
      (resolve) => (timer = setTimeout(() => resolve(undefined), QUEUE_COUNT_TIMEOUT_MS)),
    );
    try {
      const counts = await Promise.race([this.queueCounts().catch(() => undefined), timeout]);
      for (const [queue, states] of Object.entries(counts ?? {})) {
        for (const state of QUEUE_STATES) this.queueJobs.set({ queue, state }, states[state] ?? 0);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  private counter<L extends string>(name: string, help: string, labelNames: L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private gauge<L extends string>(name: string, help: string, labelNames: L[]): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  private histogram<L extends string>(name: string, help: string, labelNames: L[], buckets: number[]): Histogram<L> {
    return new Histogram({ name, help, labelNames, buckets, registers: [this.registry] });
  }
}
