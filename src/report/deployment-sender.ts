import type { DeploymentState, DeploymentStateDetails, DeploymentTarget, Forge } from "../forge/types.js";
import { withLock } from "../queue/environment-lock.js";
import type { RedisClient } from "../queue/redis-connection.js";
import { SHORT_LOCK_MS } from "./final-status-once.js";
import { OrderedSender, type Sendable, type StatusSenderOptions } from "./status-sender.js";

/** One state of the deployment record of an environment at a commit, with what the forge needs to find or make it. */
export interface DeploymentUpdate extends Sendable {
  /** The environment and commit (and how the forge shows the environment). */
  target: DeploymentTarget;
  /** The state to show. */
  state: DeploymentState;
  /** Its description and links. */
  details: DeploymentStateDetails;
}

/**
 * How far along each state is: a deployment only moves forward, so an update ranked at or below the
 * last one sent is dropped: stale (a deploy job's "queued" reaching the forge after the rollout's
 * "in progress"), or saying nothing new (each state is sent once: the progress of a release is the
 * commit status's to tell, and every deployment status is a write GitHub rate-limits); `inactive`
 * may still follow success or failure.
 */
const RANK: Record<DeploymentState, number> = { queued: 0, in_progress: 1, success: 2, failure: 2, inactive: 3 };

/** Success, failure and inactive end a deployment: never coalesced away. */
export const isFinalDeploymentState = (state: DeploymentState): boolean => RANK[state] >= 2;

/** Descriptions of the states {@link skipped} fills in. */
const FILLED_IN: Partial<Record<DeploymentState, string>> = { queued: "queued", in_progress: "releasing" };

/**
 * The states a deployment must show before `state` that were not sent (`last` is the rank of the
 * last one sent): a job's intermediate states go out in the background and may lose the race to the
 * rollout's final one, yet the record should read queued → in progress → success (or failure);
 * inactive needs only queued before it.
 */
function skipped(last: number, state: DeploymentState): DeploymentState[] {
  const before: DeploymentState[] =
    state === "success" || state === "failure" ? ["queued", "in_progress"] : state === "inactive" ? ["queued"] : [];
  return before.filter((s) => RANK[s] > last);
}

/** How long Redis remembers a deployment's id and state (30 days, as final statuses). */
const TTL_SECONDS = 30 * 24 * 3600;

/** The Redis hash holding the forge's id of the deployment of (`environment`, `sha`) and the rank of its last state sent. */
export function deploymentKey(forge: Forge, environment: string, sha: string): string {
  return `ferry:deployment:${forge.repo.forge}:${forge.repo.fullName}:${environment}:${sha}`;
}

/** The Redis key naming the environment's live deployment: its id and sha, once it succeeded. */
function liveKey(forge: Forge, environment: string): string {
  return `ferry:deployment-live:${forge.repo.forge}:${forge.repo.fullName}:${environment}`;
}

/**
 * Sends deployment states beside the release, as StatusSender sends commit statuses (one lane per
 * environment and commit, in order, intermediate states coalesced, final ones never dropped, retried
 * in the background), each under a per-(environment, commit) Redis lock shared by every worker:
 * the forge's record is found or made once (`Forge.ensureDeployment`, its id remembered in Redis),
 * each state is sent once and only forward (a state ranked at or below the last one sent is dropped).
 * When a deployment succeeds, the environment's previous live deployment is marked inactive
 * (`replaced by <sha>`) where GitHub's `auto_inactive` does not: production and transient environments.
 */
export class DeploymentSender {
  private readonly sender: OrderedSender<DeploymentUpdate>;

  /**
   * Sends to `forge`, remembering ids and states in `redis`; `options` as StatusSender's. Each send
   * first awaits `yieldTo` (the job's commit statuses going idle): on GitHub every write waits its
   * turn a second apart, and a deployment state is worth less than the status people wait for.
   */
  constructor(
    private readonly forge: Forge,
    private readonly redis: RedisClient,
    options: StatusSenderOptions<DeploymentUpdate> = {},
    private readonly yieldTo: () => Promise<void> = () => Promise.resolve(),
  ) {
    this.sender = new OrderedSender<DeploymentUpdate>(
      async (_sha, update) => {
        await this.yieldTo();
        await this.send(update);
      },
      { laneOf: (u) => `deployment ${u.target.environment}`, isFinal: (u) => isFinalDeploymentState(u.state) },
      options,
    );
  }

  /** Queues `update`; returns at once. */
  post(update: DeploymentUpdate): void {
    this.sender.post(update.target.sha, update);
  }

  /** Resolves once every update queued so far was sent or given up (see OrderedSender.settled). */
  settled(): Promise<void> {
    return this.sender.settled();
  }

  private async send(update: DeploymentUpdate): Promise<void> {
    const { environment, sha } = update.target;
    const key = deploymentKey(this.forge, environment, sha);
    await withLock(
      this.redis,
      `${key}:lock`,
      async () => {
        const [knownId, sentRank] = await this.redis.hmget(key, "id", "rank");
        const rank = RANK[update.state];
        const last = sentRank === null ? -1 : Number(sentRank);
        if (rank <= last) return;
        let id = knownId === null ? undefined : Number(knownId);
        if (id === undefined) {
          id = await this.forge.ensureDeployment(update.target);
          await this.redis.multi().hset(key, "id", String(id)).expire(key, TTL_SECONDS).exec();
        }
        for (const state of skipped(last, update.state)) {
          await this.forge.setDeploymentState(id, state, { ...update.details, description: FILLED_IN[state] ?? state });
          await this.redis.multi().hset(key, "rank", String(RANK[state])).expire(key, TTL_SECONDS).exec();
        }
        await this.forge.setDeploymentState(id, update.state, update.details);
        // Retired before the rank is recorded: when retiring fails, the retry sends both again.
        if (update.state === "success") await this.retirePrevious(update, id);
        await this.redis.multi().hset(key, "rank", String(rank)).expire(key, TTL_SECONDS).exec();
      },
      { ttlMs: SHORT_LOCK_MS },
    );
  }

  /** The environment's previous live deployment, marked inactive when GitHub would not do it (production, transient). */
  private async retirePrevious(update: DeploymentUpdate, id: number): Promise<void> {
    const { target } = update;
    const live = liveKey(this.forge, target.environment);
    const [previousId, previousSha] = ((await this.redis.get(live)) ?? "").split(" ");
    const retire = target.production || target.transient;
    if (retire && previousId && previousSha && Number(previousId) !== id) {
      await this.forge.setDeploymentState(Number(previousId), "inactive", {
        description: `replaced by ${target.sha.slice(0, 7)}`,
        logUrl: update.details.logUrl,
        ...(update.details.environmentUrl === undefined ? {} : { environmentUrl: update.details.environmentUrl }),
      });
      const previousKey = deploymentKey(this.forge, target.environment, previousSha);
      await this.redis.multi().hset(previousKey, "rank", String(RANK.inactive)).expire(previousKey, TTL_SECONDS).exec();
    }
    await this.redis.set(live, `${id} ${target.sha}`, "EX", TTL_SECONDS);
  }
}
