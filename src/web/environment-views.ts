import type { AuditLog } from "../audit/audit-log.js";
import { auditRecordSchema, type AuditRecord } from "../audit/audit-record.js";
import type { AuditScope } from "../audit/audit-scope.js";
import type { ClusterProgress, RolloutState } from "../domain/rollout.js";
import { FINAL_ROLLOUT_STATES } from "../domain/rollout.js";
import type { RedisClient } from "../queue/redis-connection.js";
import { driftVerdictsKey } from "../report/drift-reporter.js";
import type { ClusterVerdict } from "../report/drift-status.js";
import type { RolloutStore } from "../rollout/rollout-store.js";

/** An environment's state on the home page. */
export type EnvironmentState = "in sync" | "drifted" | "releasing" | "failed" | "unreachable";

/** One environment of a repository, as the home page lists it. */
export interface EnvironmentSummary {
  /** The forge the repository lives on. */
  forge: AuditScope["forge"];
  /** `owner/name`, or a GitLab project's path. */
  repository: string;
  /** The environment's name. */
  environment: string;
  /** The commit last released (or rolled back to), if any. */
  commit?: string;
  /** Releasing (a rollout runs), failed (the last release failed), unreachable (its agent was not seen), drifted, or in sync. */
  state: EnvironmentState;
  /** The newest release (or rollout) record. */
  lastRelease?: { at: string; actor: string; outcome: string; sha?: string; rollout?: string };
}

/** One record of an environment's history, with the id that pages further back. */
export interface HistoryRow {
  /** The record's stream id (`<ms>-<seq>`): `?before=` it reads the next page. */
  id: string;
  /** The record. */
  record: AuditRecord;
}

/** Everything the environment page shows. */
export interface EnvironmentDetail extends EnvironmentSummary {
  /** The newest records first, one page. */
  history: HistoryRow[];
  /** True on a page further back than the first (`?before=`). */
  paged: boolean;
  /** The id to read the next (older) page before; absent on the last page. */
  nextBefore?: string;
  /** Each cluster of the current rollout. */
  clusters: ClusterProgress[];
  /** The current rollout, if one is kept. */
  rollout?: { id: string; state: RolloutState; sha: string };
  /** Each cluster's latest drift verdict still standing. */
  drift: ClusterVerdict[];
  /** Rollouts named by the records on this page, newest first. */
  rollouts: string[];
}

/** What releases look like in the trail: a cluster's release, an automatic rollback, a rollout's end. */
const RELEASE_ACTIONS = new Set(["release", "rollback", "rollout"]);
/** Outcomes that leave a cluster running the record's commit. */
const RELEASED = new Set(["released", "succeeded", "already-released", "rolled-back", "healed"]);
/** Records read to find an environment's last release. */
const SCAN = 50;

/**
 * Reads what the web view shows of environments: the audit trail (history, last release), the
 * rollout store (releasing, per-cluster state) and the drift verdicts reconcile keeps.
 */
export class EnvironmentViews {
  /** Reads from the audit log, the rollouts and the Redis holding drift verdicts. */
  constructor(
    private readonly audit: AuditLog,
    private readonly rollouts: RolloutStore,
    private readonly redis: RedisClient,
    private readonly now: () => number = Date.now,
  ) {}

  /** Every environment with records, `*` scopes left out, sorted by forge, repository and environment. */
  async scopes(): Promise<AuditScope[]> {
    return (await this.audit.scopes()).filter((s) => s.environment !== "*");
  }

  /** One environment's line on the home page. */
  async summary(scope: AuditScope): Promise<EnvironmentSummary> {
    const rows = await this.rows(scope, SCAN);
    const rolloutId = await this.rollouts.current(
      { forge: scope.forge, fullName: scope.repository },
      scope.environment,
    );
    const rollout = rolloutId === undefined ? undefined : await this.rollouts.summary(rolloutId);
    const drift = await this.drift(scope);
    return summaryOf(scope, rows, rollout?.state, drift);
  }

  /** The environment page: one page of history (`limit` records before `before`), clusters, drift, rollouts. */
  async detail(scope: AuditScope, limit: number, before?: string): Promise<EnvironmentDetail | undefined> {
    const page = await this.rows(scope, limit + 1, before);
    if (page.length === 0 && before === undefined) return undefined;
    const history = page.slice(0, limit);
    const recent = before === undefined ? history : await this.rows(scope, SCAN);
    const repo = { forge: scope.forge, fullName: scope.repository };
    const rolloutId = await this.rollouts.current(repo, scope.environment);
    const rollout = rolloutId === undefined ? undefined : await this.rollouts.summary(rolloutId);
    const clusters = rolloutId === undefined || rollout === undefined ? [] : await this.rollouts.clusters(rolloutId);
    const drift = await this.drift(scope);
    const rollouts = [...new Set(history.map((r) => r.record.rollout).filter((id): id is string => id !== undefined))];
    const last = page.length > limit ? history.at(-1) : undefined;
    return {
      ...summaryOf(scope, recent, rollout?.state, drift),
      history,
      paged: before !== undefined,
      ...(last === undefined ? {} : { nextBefore: last.id }),
      clusters: clusters.sort((a, b) => a.cluster.localeCompare(b.cluster)),
      ...(rolloutId === undefined || rollout === undefined
        ? {}
        : { rollout: { id: rolloutId, state: rollout.state, sha: rollout.sha } }),
      drift,
      rollouts,
    };
  }

  private async rows(scope: AuditScope, count: number, before?: string): Promise<HistoryRow[]> {
    const rows: HistoryRow[] = [];
    for (const entry of await this.audit.newest(scope, count, before)) {
      try {
        rows.push({ id: entry.id, record: auditRecordSchema.parse(JSON.parse(entry.text)) });
      } catch {
        // Not a valid record: `ferry audit verify` reports it.
      }
    }
    return rows;
  }

  private async drift(scope: AuditScope): Promise<ClusterVerdict[]> {
    const raw = await this.redis.hgetall(
      driftVerdictsKey({ forge: scope.forge, fullName: scope.repository }, scope.environment),
    );
    const at = this.now();
    return Object.values(raw)
      .map((text) => JSON.parse(text) as ClusterVerdict)
      .filter((v) => v.until >= at)
      .sort((a, b) => a.cluster.localeCompare(b.cluster));
  }
}

/** The state, commit and last release of an environment from its newest records, current rollout and drift. */
function summaryOf(
  scope: AuditScope,
  rows: HistoryRow[],
  rolloutState: RolloutState | undefined,
  drift: ClusterVerdict[],
): EnvironmentSummary {
  const releases = rows.map((r) => r.record).filter((r) => RELEASE_ACTIONS.has(r.action));
  const last = releases[0];
  const commit = releases.find((r) => RELEASED.has(r.outcome) && r.sha !== undefined)?.sha;
  const state: EnvironmentState =
    rolloutState !== undefined && !FINAL_ROLLOUT_STATES.has(rolloutState)
      ? "releasing"
      : last?.outcome === "failed" || last?.outcome === "unreachable"
        ? last.outcome
        : drift.some((v) => v.drifted > 0)
          ? "drifted"
          : "in sync";
  return {
    forge: scope.forge,
    repository: scope.repository,
    environment: scope.environment,
    ...(commit === undefined ? {} : { commit }),
    state,
    ...(last === undefined
      ? {}
      : {
          lastRelease: {
            at: last.finishedAt,
            actor: last.actor,
            outcome: last.outcome,
            ...(last.sha === undefined ? {} : { sha: last.sha }),
            ...(last.rollout === undefined ? {} : { rollout: last.rollout }),
          },
        }),
  };
}
