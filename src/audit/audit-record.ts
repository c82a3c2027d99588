import { z } from "zod";

/** The version of the record format; a reader refuses records of a version it does not know. */
export const AUDIT_RECORD_VERSION = 1;

/**
 * What an audit record is about: a cluster's `release`, the automatic `rollback` after an unhealthy
 * one, the end of a `rollout` (every cluster of one commit to one environment), a drift `heal`, an
 * `approval` (`/ferry continue`), an `abort` (`/ferry abort`), a `revert` (`/ferry rollback`: the
 * revert change opened, merged, or refused by the forge), a `refused-command` (a user without write
 * access, or whose access the forge would not tell).
 */
export const auditActionSchema = z.enum([
  "release",
  "rollback",
  "rollout",
  "heal",
  "approval",
  "abort",
  "revert",
  "refused-command",
  "freeze",
  "unfreeze",
  "freeze-override",
]);

/** Objects a release, rollback or heal wrote: names only (`Deployment shop/web`), never values. */
export const auditObjectsSchema = z.strictObject({
  /** `+`: created. */
  created: z.array(z.string()),
  /** `~`: configured (changed). */
  configured: z.array(z.string()),
  /** `−`: pruned (deleted). */
  pruned: z.array(z.string()),
  /** Objects already as Git says. */
  unchanged: z.number().int().nonnegative(),
  /** How many names each list left out to keep a record small (a list keeps at most 100 names); absent when none. */
  omitted: z
    .strictObject({
      created: z.number().int().positive().optional(),
      configured: z.number().int().positive().optional(),
      pruned: z.number().int().positive().optional(),
    })
    .optional(),
});

/**
 * One audit record, as stored and exported. Times are ISO 8601 in UTC. `prevHash` is the hash of the
 * previous record of the same environment (`""` for its first); the record's own hash is the SHA-256
 * of its canonical JSON (see `recordHash`), so editing, removing or reordering a record breaks the
 * chain.
 */
export const auditRecordSchema = z.strictObject({
  v: z.literal(AUDIT_RECORD_VERSION),
  action: auditActionSchema,
  /** Who: the merger or pusher, the commenter, or `reconcile`. */
  actor: z.string().min(1),
  forge: z.enum(["github", "gitlab"]),
  /** `owner/name`, or a GitLab project's path. */
  repository: z.string().min(1),
  /** The environment; `*` for what concerns the repository as a whole (a refused command naming none). */
  environment: z.string().min(1),
  /** The cluster, for a release, rollback or heal. */
  cluster: z.string().min(1).optional(),
  /** The pull or merge request. */
  change: z.number().int().positive().optional(),
  /** The commit released, rolled back to or healed. */
  sha: z.string().min(1).optional(),
  /** The rollout the action belongs to. */
  rollout: z.string().min(1).optional(),
  /** The command as written (`/ferry abort production`). */
  command: z.string().min(1).optional(),
  /** When the action was queued, started and finished. */
  queuedAt: z.iso.datetime().optional(),
  startedAt: z.iso.datetime().optional(),
  finishedAt: z.iso.datetime(),
  /** How it ended: `released`, `failed`, `superseded`, `succeeded`, `aborted`, `healed`, `refused`... */
  outcome: z.string().min(1),
  /** Why, when it says more than the outcome (the failure, who aborted, what a refused user lacked). */
  reason: z.string().optional(),
  objects: auditObjectsSchema.optional(),
  /** Hash of the environment's previous record; `""` for its first. */
  prevHash: z.string(),
});

/** An audit action. */
export type AuditAction = z.output<typeof auditActionSchema>;
/** The objects of an audit record. */
export type AuditObjects = z.output<typeof auditObjectsSchema>;
/** One audit record. */
export type AuditRecord = z.output<typeof auditRecordSchema>;
/** A record as a job writes it: the audit log adds the version and the chain. */
export type AuditEntry = Omit<AuditRecord, "v" | "prevHash">;
