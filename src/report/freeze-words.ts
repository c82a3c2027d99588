/** What `/ferry freeze`, `unfreeze` and `deploy --override-freeze` say, and how a freeze shows on a commit. */

/** A freeze's end as people read it: `2026-12-07 18:00 UTC`. */
export function freezeTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** The pending deploy status of a commit a freeze holds back: `frozen until 2026-12-07 18:00 UTC: holidays`. */
export function frozenStatus(until: number, reason: string): string {
  return `frozen until ${freezeTime(until)}: ${reason}`;
}

/** How each freeze command is written, for the replies that correct one. */
export const FREEZE_USAGE = {
  freeze: "`/ferry freeze <environment> <duration> <reason>`, e.g. `/ferry freeze production 2h incident 4711`",
  unfreeze: "`/ferry unfreeze <environment>`",
  deploy: "`/ferry deploy <environment> --override-freeze`",
} as const;

/** The freeze commands. */
export type FreezeCommandName = keyof typeof FREEZE_USAGE;

/** The answers to the freeze commands, each addressed to `user`. */
export const freezeReplies = {
  /** The command named no environment. */
  noEnvironment: (user: string, command: FreezeCommandName) =>
    `@${user} name the environment: ${FREEZE_USAGE[command]}.`,
  /** `/ferry freeze` without a valid duration (`problem` says what is wrong with it) or a reason. */
  badFreeze: (user: string, problem: string) => `@${user} ${problem}: ${FREEZE_USAGE.freeze}.`,
  /** The freeze is in force. */
  froze: (user: string, env: string, until: number, reason: string) =>
    `@${user} froze ${env} until ${freezeTime(until)}: ${reason}. Releases of ${env} wait until then (plans still run); \`/ferry unfreeze ${env}\` ends the freeze now.`,
  /** `/ferry unfreeze` found no ad-hoc freeze. */
  notFrozen: (user: string, env: string) =>
    `@${user} ${env} has no freeze made with \`/ferry freeze\` in force (freeze windows in configuration end on their own).`,
  /** The freeze ended; `released` when it had held releases back. */
  unfroze: (user: string, env: string, released: boolean) =>
    `@${user} unfroze ${env}${released ? ": the releases it held back start now (unless a freeze window still holds them)" : ""}.`,
  /** `/ferry deploy` without `--override-freeze`. */
  deployNeedsOverride: (user: string) =>
    `@${user} \`/ferry deploy\` only overrides a freeze: ${FREEZE_USAGE.deploy}. Merging deploys otherwise.`,
  /** An override by someone who is not an admin. */
  overrideRefused: (user: string) => `@${user} only admins of this repository can override a freeze.`,
  /** The override's release is queued. */
  overriding: (user: string, env: string, branch: string, sha: string) =>
    `@${user} deploying ${branch} at ${sha.slice(0, 7)} to ${env}, overriding any freeze (recorded in the audit trail).`,
};
