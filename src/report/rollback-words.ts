import type { ForgeKind, RepoRef } from "../domain/repo.js";
import type { Rollout } from "../domain/rollout.js";
import type { MergedChange, RevertChange } from "../forge/types.js";
import type { KnownRevert } from "../revert/revert-store.js";

/** The hidden marker in a revert's description naming the change it reverts: how a revert already open is found. */
export function revertMarker(change: number): string {
  return `<!-- ferry:revert-of:${change} -->`;
}

/** How a forge writes a reference to one of its changes: `#7` on GitHub, `!7` on GitLab. */
export function changeRef(forge: ForgeKind, change: number): string {
  return `${forge === "gitlab" ? "!" : "#"}${change}`;
}

/** The forge's name, as people read it. */
function forgeName(forge: ForgeKind): string {
  return forge === "gitlab" ? "GitLab" : "GitHub";
}

/** The revert's title, as the forges' own Revert buttons word it: `Revert "<title>"`. */
export function revertTitle(change: MergedChange): string {
  return `Revert "${change.title}"`;
}

/** What a revert's description says: the change, its releases, who asked and how; `rolloutPage` links a rollout. */
export interface RevertDescription {
  repo: RepoRef;
  change: MergedChange;
  /** The change's rollouts, oldest first (its releases). */
  releases: Rollout[];
  /** Who asked. */
  user: string;
  /** The command as written. */
  command: string;
  /** A rollout's page. */
  rolloutPage(id: string): string;
}

/** The revert's description: what it reverts, where that was released, who asked, and what merging it does. */
export function revertBody(d: RevertDescription): string {
  const ref = changeRef(d.repo.forge, d.change.number);
  const releases =
    d.releases.length === 0
      ? ["No release of it is known to Ferry."]
      : [
          "Its releases:",
          "",
          ...d.releases.map(
            (r) => `- ${r.environment}: \`${r.sha.slice(0, 7)}\` ${r.state} ([rollout](${d.rolloutPage(r.id)}))`,
          ),
        ];
  return [
    `Reverts ${ref} (${d.change.title}), merged as \`${d.change.mergeSha.slice(0, 7)}\`, as @${d.user} asked with \`${d.command}\`.`,
    "",
    ...releases,
    "",
    "Ferry plans this change as any other: its plan comment shows what the rollback changes in each cluster. " +
      "Merging it deploys it, so Git stays the single source of truth.",
    "",
    revertMarker(d.change.number),
  ].join("\n");
}

/** The answer to `/ferry rollback` on a change that is not merged. */
export function notMergedAnswer(user: string, open: boolean): string {
  return open
    ? `@${user} this change is not merged yet; there is nothing to roll back (close it instead).`
    : `@${user} this change was closed without merging; there is nothing to roll back.`;
}

/** The answer to `/ferry rollback <env>` on a change that was never released to `env`. */
export function notReleasedAnswer(user: string, environment: string, released: string[]): string {
  const where =
    released.length === 0 ? "it has no release Ferry knows of" : `it was released to ${released.join(", ")}`;
  return `@${user} this change was never released to ${environment} (${where}); there is nothing to roll back there.`;
}

/** The answer while another request for the same change is opening its revert. */
export function busyAnswer(user: string): string {
  return `@${user} a rollback of this change is being opened right now; its link follows in a moment.`;
}

/** The answer to a second `/ferry rollback`: the revert opened before, open or merged. */
export function alreadyAnswer(
  user: string,
  forge: ForgeKind,
  revert: Pick<KnownRevert, "number" | "url">,
  merged: boolean,
): string {
  const ref = `[${changeRef(forge, revert.number)}](${revert.url})`;
  return merged
    ? `@${user} this change was already rolled back: ${ref} reverted it and is merged.`
    : `@${user} this change's rollback is already open: ${ref}. Merge it to deploy the rollback.`;
}

/** The answer once the revert is open (and, with `--merge`, merged or refused a merge). */
export function openedAnswer(
  user: string,
  forge: ForgeKind,
  revert: RevertChange,
  merge: { merged: true } | { merged: false; refused: string } | undefined,
): string {
  const ref = `[${changeRef(forge, revert.number)}](${revert.url})`;
  if (merge === undefined)
    return `@${user} opened ${ref} to roll this change back. Its plan shows what the rollback changes; merging it deploys it.`;
  if (merge.merged) return `@${user} opened and merged ${ref}, which rolls this change back; its deploy follows.`;
  return [
    `@${user} opened ${ref} to roll this change back, but ${forgeName(forge)} would not let Ferry merge it:`,
    "",
    `> ${merge.refused}`,
    "",
    "Merge it once the branch's rules allow (reviews, checks); its plan shows what the rollback changes.",
  ].join("\n");
}

/** The answer when the forge could not make the revert (it conflicts with changes merged since), in its words, and what to do. */
export function revertRefusedAnswer(user: string, forge: ForgeKind, change: MergedChange, reason: string): string {
  return [
    `@${user} ${forgeName(forge)} could not revert ${changeRef(forge, change.number)} automatically:`,
    "",
    `> ${reason}`,
    "",
    `Changes merged since touch the same lines. Revert it by hand: on a branch off ${change.baseBranch}, ` +
      `\`git revert -m 1 ${change.mergeSha}\` (without \`-m 1\` for a squash or fast-forward merge), resolve the ` +
      "conflicts and open a change; Ferry plans and deploys it as any other.",
  ].join("\n");
}

/** The answer when Ferry gave up opening the revert (the forge refused it a call, or kept failing): the error, whole. */
export function rollbackFailedAnswer(user: string, message: string): string {
  return `@${user} Ferry could not roll this change back:\n\n\`\`\`\n${message}\n\`\`\``;
}
