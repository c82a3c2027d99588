import { gunzipSync, gzipSync } from "node:zlib";
import type { DeclaredEnvironment } from "../config/ferry-config.js";
import type { ClusterOutcome } from "../domain/release.js";
import type { RepoRef } from "../domain/repo.js";
import {
  CLUSTER_STATES,
  type ClusterCounts,
  type ClusterProgress,
  type ClusterState,
  type Rollout,
  type RolloutSummary,
  type WavePlan,
} from "../domain/rollout.js";
import type { RedisClient } from "../queue/redis-connection.js";
import type { RenderedObject } from "../render/types.js";

/** A commit (and the change merged as it) that a rollout reports to: its own, or an older one it includes. */
export interface ReportTarget {
  sha: string;
  change?: number;
}

/** What a new rollout is stored with. */
export interface NewRollout {
  rollout: Rollout;
  /** The environment as the commit's `.ferry.yml` declares it (each cluster's job resolves its own target from it). */
  declared: DeclaredEnvironment;
  /** Rendered objects by render key: identical renders are stored once per rollout. */
  renders: Map<string, RenderedObject[]>;
  /** Each cluster's render key. */
  renderKeys: Map<string, string>;
}

/** The fields of a rollout that change while it runs; the rest is written once. */
type MutableFields = Pick<
  Rollout,
  "state" | "wave" | "waveStartedAt" | "pausedUntil" | "reason" | "supersededBy" | "finishedAt"
>;

/**
 * Moves one cluster to a new state: its progress, its state and the per-wave counters change
 * together, and a repeated move (a retried job) counts once. KEYS: progress hash, state hash,
 * counts hash. ARGV: cluster, wave, new state, progress JSON.
 */
const MOVE = `
local old = redis.call("hget", KEYS[2], ARGV[1])
redis.call("hset", KEYS[1], ARGV[1], ARGV[4])
if old ~= ARGV[3] then
  redis.call("hset", KEYS[2], ARGV[1], ARGV[3])
  if old then redis.call("hincrby", KEYS[3], ARGV[2] .. ":" .. old, -1) end
  redis.call("hincrby", KEYS[3], ARGV[2] .. ":" .. ARGV[3], 1)
end
return old`;

/**
 * Rollouts in Redis: each rollout's plan, state, clusters, per-wave counts and renders under one
 * hash tag (one slot on a Redis Cluster), plus per-environment pointers to the current rollout and
 * to each commit's. Everything expires after `ttlSeconds` (default 30 days).
 */
export class RolloutStore {
  /** Binds the store to Redis. */
  constructor(
    private readonly redis: RedisClient,
    private readonly ttlSeconds = 30 * 24 * 3600,
  ) {}

  /** Stores a new rollout with every cluster pending, and makes it its commit's rollout of the environment. */
  async create(input: NewRollout): Promise<void> {
    const { rollout } = input;
    const k = keys(rollout.id);
    const multi = this.redis.multi();
    const { state, wave, waveStartedAt, pausedUntil, reason, supersededBy, finishedAt, waves, ...fixed } = rollout;
    multi.hset(k.meta, {
      fixed: JSON.stringify(fixed),
      waves: JSON.stringify(waves),
      declared: JSON.stringify(input.declared),
      mutable: JSON.stringify({ state, wave, waveStartedAt, pausedUntil, reason, supersededBy, finishedAt }),
    });
    for (const [key, rendered] of input.renders) multi.hset(k.renders, key, gzipSync(JSON.stringify(rendered)));
    const progress: Record<string, string> = {};
    const states: Record<string, string> = {};
    const renderKeys: Record<string, string> = {};
    const counts = new Map<string, number>();
    for (const w of rollout.waves) {
      for (const cluster of w.clusters) {
        progress[cluster] = JSON.stringify({ cluster, wave: w.index, state: "pending" } satisfies ClusterProgress);
        states[cluster] = "pending";
        renderKeys[cluster] = input.renderKeys.get(cluster) ?? "";
      }
      counts.set(`${w.index}:pending`, w.clusters.length);
    }
    if (Object.keys(progress).length > 0)
      multi.hset(k.clusters, progress).hset(k.states, states).hset(k.renderKeys, renderKeys);
    if (counts.size > 0) multi.hset(k.counts, Object.fromEntries(counts));
    for (const key of Object.values(k)) multi.expire(key, this.ttlSeconds);
    await exec(multi);
    await this.redis.set(bySha(rollout.repo, rollout.environment, rollout.sha), rollout.id, "EX", this.ttlSeconds);
  }

  /** A rollout, or undefined when unknown or expired. */
  async get(id: string): Promise<Rollout | undefined> {
    const [fixed, mutable, waves] = await this.redis.hmget(keys(id).meta, "fixed", "mutable", "waves");
    if (!fixed || !mutable || !waves) return undefined;
    return {
      ...(JSON.parse(fixed) as Omit<RolloutSummary, keyof MutableFields>),
      ...(JSON.parse(mutable) as MutableFields),
      waves: JSON.parse(waves) as WavePlan[],
    };
  }

  /** A rollout without its waves (cheap however many clusters it has), or undefined when unknown or expired. */
  async summary(id: string): Promise<RolloutSummary | undefined> {
    const [fixed, mutable] = await this.redis.hmget(keys(id).meta, "fixed", "mutable");
    if (!fixed || !mutable) return undefined;
    return {
      ...(JSON.parse(fixed) as Omit<RolloutSummary, keyof MutableFields>),
      ...(JSON.parse(mutable) as MutableFields),
    };
  }

  /** The environment as the rollout's commit declares it. */
  async declared(id: string): Promise<DeclaredEnvironment> {
    const text = await this.redis.hget(keys(id).meta, "declared");
    if (!text) throw new Error(`rollout ${id} is gone`);
    return JSON.parse(text) as DeclaredEnvironment;
  }

  /** Changes a rollout's state (read-modify-write: only the rollout's own job writes these fields). */
  async update(id: string, patch: Partial<MutableFields>): Promise<Rollout> {
    const rollout = await this.get(id);
    if (!rollout) throw new Error(`rollout ${id} is gone`);
    const next = { ...rollout, ...patch };
    const { state, wave, waveStartedAt, pausedUntil, reason, supersededBy, finishedAt } = next;
    await this.redis.hset(
      keys(id).meta,
      "mutable",
      JSON.stringify({ state, wave, waveStartedAt, pausedUntil, reason, supersededBy, finishedAt }),
    );
    return next;
  }

  /** Every cluster of a rollout, in wave order. */
  async clusters(id: string): Promise<ClusterProgress[]> {
    const all = Object.values(await this.redis.hgetall(keys(id).clusters)).map(
      (text) => JSON.parse(text) as ClusterProgress,
    );
    return all.sort((a, b) => a.wave - b.wave);
  }

  /** One cluster of a rollout. */
  async cluster(id: string, cluster: string): Promise<ClusterProgress | undefined> {
    const text = await this.redis.hget(keys(id).clusters, cluster);
    return text ? (JSON.parse(text) as ClusterProgress) : undefined;
  }

  /** The states of some clusters of a rollout, by name. */
  async clusterStates(id: string, clusters: string[]): Promise<Map<string, ClusterState>> {
    if (clusters.length === 0) return new Map();
    const states = await this.redis.hmget(keys(id).states, ...clusters);
    return new Map(clusters.map((c, i) => [c, (states[i] ?? "pending") as ClusterState]));
  }

  /** Moves a cluster to a new state (counts stay exact however often a retried job repeats it). */
  async setCluster(id: string, progress: ClusterProgress): Promise<void> {
    const k = keys(id);
    await this.redis.eval(
      MOVE,
      3,
      k.clusters,
      k.states,
      k.counts,
      progress.cluster,
      progress.wave,
      progress.state,
      JSON.stringify(progress),
    );
  }

  /** Moves many clusters at once, in one round trip. */
  async setClusters(id: string, progress: ClusterProgress[]): Promise<void> {
    const k = keys(id);
    const pipeline = this.redis.pipeline();
    for (const p of progress)
      pipeline.eval(MOVE, 3, k.clusters, k.states, k.counts, p.cluster, p.wave, p.state, JSON.stringify(p));
    const results = await pipeline.exec();
    const failed = results?.find(([error]) => error !== null);
    if (failed?.[0]) throw failed[0];
  }

  /** Records how a cluster's release ended. */
  async finishCluster(
    id: string,
    cluster: string,
    wave: number,
    outcome: ClusterOutcome,
    startedAt?: number,
  ): Promise<void> {
    await this.setCluster(id, {
      cluster,
      wave,
      state: outcome.kind,
      ...(startedAt === undefined ? {} : { startedAt }),
      finishedAt: Date.now(),
      outcome,
    });
  }

  /** How many clusters of each wave are in each state (index: wave). */
  async counts(id: string, waves: number): Promise<ClusterCounts[]> {
    const raw = await this.redis.hgetall(keys(id).counts);
    return Array.from(
      { length: waves },
      (_, w) => Object.fromEntries(CLUSTER_STATES.map((s) => [s, Number(raw[`${w}:${s}`] ?? 0)])) as ClusterCounts,
    );
  }

  /** The rendered objects a cluster of the rollout releases. */
  async rendered(id: string, cluster: string): Promise<RenderedObject[]> {
    const k = keys(id);
    const key = await this.redis.hget(k.renderKeys, cluster);
    const data = key === null ? null : await this.redis.hgetBuffer(k.renders, key);
    if (!data) throw new Error(`rollout ${id} holds no render for cluster ${cluster}`);
    return JSON.parse(gunzipSync(data).toString("utf8")) as RenderedObject[];
  }

  /** The rollout of `sha` to an environment, if one was started. */
  async idOf(repo: RepoRef, environment: string, sha: string): Promise<string | undefined> {
    return (await this.redis.get(bySha(repo, environment, sha))) ?? undefined;
  }

  /** The environment's current rollout: the newest one started. */
  async current(repo: RepoRef, environment: string): Promise<string | undefined> {
    return (await this.redis.get(currentKey(repo, environment))) ?? undefined;
  }

  /** Makes `id` the environment's current rollout; older ones see they are superseded. */
  async setCurrent(repo: RepoRef, environment: string, id: string): Promise<void> {
    await this.redis.set(currentKey(repo, environment), id, "EX", this.ttlSeconds);
  }

  /** Adds a commit (and change) the rollout reports to; true when it was not yet one. */
  async attach(id: string, target: ReportTarget): Promise<boolean> {
    const k = keys(id);
    const added = await this.redis.sadd(k.reports, JSON.stringify(target));
    await this.redis.expire(k.reports, this.ttlSeconds);
    const repo = await this.repoOf(id);
    const indexes = [
      commitKey(repo, target.sha),
      ...(target.change === undefined ? [] : [changeKey(repo, target.change)]),
    ];
    for (const key of indexes) await this.redis.multi().sadd(key, id).expire(key, this.ttlSeconds).exec();
    return added === 1;
  }

  /** The commits (and changes) a rollout reports to. */
  async reports(id: string): Promise<ReportTarget[]> {
    return (await this.redis.smembers(keys(id).reports))
      .map((text) => JSON.parse(text) as ReportTarget)
      .sort((a, b) => a.sha.localeCompare(b.sha));
  }

  /** The rollouts that report to a commit, oldest first. */
  async ofCommit(repo: RepoRef, sha: string): Promise<Rollout[]> {
    const ids = await this.redis.smembers(commitKey(repo, sha));
    const rollouts = (await Promise.all(ids.map((id) => this.get(id)))).filter((r): r is Rollout => r !== undefined);
    return rollouts.sort((a, b) => a.createdAt - b.createdAt || a.environment.localeCompare(b.environment));
  }

  /** Records that `user` asked to end the gate after wave `wave` (a pause or an approval). */
  async requestContinue(id: string, wave: number, user: string): Promise<void> {
    await this.redis.hset(keys(id).meta, `continue:${wave}`, user);
  }

  /** Who asked to end the gate after wave `wave`, if anyone did. */
  async continuedBy(id: string, wave: number): Promise<string | undefined> {
    return (await this.redis.hget(keys(id).meta, `continue:${wave}`)) ?? undefined;
  }

  /** Records that `user` asked to halt the rollout. */
  async requestAbort(id: string, user: string): Promise<void> {
    await this.redis.hset(keys(id).meta, "abort", user);
  }

  /** Who asked to halt the rollout, if anyone did. */
  async abortedBy(id: string): Promise<string | undefined> {
    return (await this.redis.hget(keys(id).meta, "abort")) ?? undefined;
  }

  /** The rollouts that report to a change (its merge, or a commit it was included in), oldest first. */
  async ofChange(repo: RepoRef, change: number): Promise<Rollout[]> {
    const ids = await this.redis.smembers(changeKey(repo, change));
    const rollouts = (await Promise.all(ids.map((id) => this.get(id)))).filter((r): r is Rollout => r !== undefined);
    return rollouts.sort((a, b) => a.createdAt - b.createdAt || a.environment.localeCompare(b.environment));
  }

  /** Takes a one-off token for `name` on a rollout, at most once per `ms`: throttles progress reports shared by many jobs. */
  async throttle(id: string, name: string, ms: number): Promise<boolean> {
    return (await this.redis.set(`${keys(id).meta}:throttle:${name}`, "1", "PX", ms, "NX")) === "OK";
  }

  private async repoOf(id: string): Promise<RepoRef> {
    const rollout = await this.summary(id);
    if (!rollout) throw new Error(`rollout ${id} is gone`);
    return rollout.repo;
  }
}

function keys(id: string) {
  const base = `ferry:rollout:{${id}}`;
  return {
    meta: base,
    clusters: `${base}:clusters`,
    states: `${base}:states`,
    counts: `${base}:counts`,
    renders: `${base}:renders`,
    renderKeys: `${base}:render-keys`,
    reports: `${base}:reports`,
  };
}

const repoKey = (repo: RepoRef) => `${repo.forge}:${repo.fullName}`;
const bySha = (repo: RepoRef, environment: string, sha: string) =>
  `ferry:rollout-of:${repoKey(repo)}:${environment}:${sha}`;
const currentKey = (repo: RepoRef, environment: string) => `ferry:rollout-current:${repoKey(repo)}:${environment}`;
const commitKey = (repo: RepoRef, sha: string) => `ferry:rollouts-of-commit:${repoKey(repo)}:${sha}`;
const changeKey = (repo: RepoRef, change: number) => `ferry:rollouts-of-change:${repoKey(repo)}:${change}`;

async function exec(multi: ReturnType<RedisClient["multi"]>): Promise<void> {
  const results = await multi.exec();
  const failed = results?.find(([error]) => error !== null);
  if (failed?.[0]) throw failed[0];
}
