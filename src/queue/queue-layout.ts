import { createHash } from "node:crypto";
import { permanent } from "../errors.js";
import { CLUSTER_SLOTS, keySlot } from "./key-slot.js";

/** BullMQ's key prefix of one group of queues; undefined is BullMQ's default (`bull`). */
export type QueuePrefix = string | undefined;

/** The prefix every queue had on a Redis Cluster before queues were spread: one hash tag, one slot. */
export const SINGLE_SLOT_PREFIX = "{ferry}";

/** The most queue groups a layout may have: each costs every worker process one blocking connection per queue. */
export const MAX_QUEUE_GROUPS = 64;

/**
 * Where Ferry's queues live in Redis: one or more groups, each a full set of Ferry's queues under a
 * key prefix of its own. On a Redis Cluster every key of a BullMQ queue must be on one slot, and a
 * parent job and its children too (the rollout job and its clusters' release jobs), so a prefix is a
 * hash tag and a group is the unit that spreads: jobs go to the group their routing key (repository,
 * rollout, cluster) hashes to, and every worker consumes every group. Groups no longer routed to but
 * perhaps still holding jobs (an older layout's) are `draining`: workers consume them and lookups by
 * id look there too, but nothing new is added to them.
 */
export class QueueLayout {
  private constructor(
    /** The prefixes new jobs are routed to, by group index. */
    readonly groups: readonly QueuePrefix[],
    /** Prefixes workers still drain. */
    readonly draining: readonly QueuePrefix[],
  ) {}

  /** One group under BullMQ's default prefix: one Redis server (direct or through Sentinel), as Ferry always had it. */
  static single(): QueueLayout {
    return new QueueLayout([undefined], []);
  }

  /**
   * `count` groups on a Redis Cluster. One group keeps the single `{ferry}` tag; more get tags chosen
   * so that group g's slot is in the g-th of `count` equal slot ranges (a cluster whose masters split
   * the slots evenly, as `redis-cli --cluster create` does, then holds count/masters groups each), and
   * drain `{ferry}`, where an earlier Ferry queued everything.
   */
  static cluster(count: number): QueueLayout {
    if (!Number.isInteger(count) || count < 1 || count > MAX_QUEUE_GROUPS)
      throw permanent(`the number of queue groups must be a whole number from 1 to ${MAX_QUEUE_GROUPS}, not ${count}`);
    if (count === 1) return new QueueLayout([SINGLE_SLOT_PREFIX], []);
    return new QueueLayout(
      Array.from({ length: count }, (_, g) => `{${groupTag(g, count)}}`),
      [SINGLE_SLOT_PREFIX],
    );
  }

  /** The group `routingKey` belongs to: the same on every process with the same layout. */
  groupOf(routingKey: string): number {
    if (this.groups.length === 1) return 0;
    return createHash("sha256").update(routingKey).digest().readUInt32BE(0) % this.groups.length;
  }

  /** Every prefix workers consume: the groups, then the draining ones. */
  consumed(): QueuePrefix[] {
    return [...this.groups, ...this.draining];
  }
}

/** The first tag `ferry:<g>:<n>` whose slot falls in the g-th of `count` equal slot ranges. */
function groupTag(g: number, count: number): string {
  const from = Math.floor((g * CLUSTER_SLOTS) / count);
  const to = Math.floor(((g + 1) * CLUSTER_SLOTS) / count);
  for (let n = 0; ; n++) {
    const tag = `ferry:${g}:${n}`;
    const slot = keySlot(tag);
    if (slot >= from && slot < to) return tag;
  }
}
