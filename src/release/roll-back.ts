import type { RollbackOutcome } from "../domain/release.js";
import { waitForHealth } from "../kube/wait-for-health.js";
import type { RenderedObject } from "../render/types.js";
import type { ReleaseSession } from "./release-session.js";

/** What a rollback needs besides the session of the failed release. */
export interface RollbackInput {
  /** The commit whose release did not become healthy. */
  failedSha: string;
  /** Who merged the failed commit; the rollback is recorded as theirs. */
  actor: string;
  /** Renders an earlier commit for this environment and cluster, as that commit's `.ferry.yml` declares it. */
  renderAt(sha: string): Promise<RenderedObject[]>;
  /** How long the rollback waits for health, as long as the release did. */
  timeoutMs: number;
  /** Fires when a newer release wants the cluster. */
  signal?: AbortSignal;
  /** Progress of the rollback's own wait for health. */
  onProgress?: (description: string) => void;
}

/**
 * Rolls an environment on one cluster back to its last successful release from the session's
 * history: renders that commit again, releases it in the same session (applying it and pruning what
 * the failed release added) and waits for its health. The failed release must be recorded first.
 * Never throws: any error is the rollback's failure, reported beside the release's own.
 */
export async function rollBack(session: ReleaseSession, input: RollbackInput): Promise<RollbackOutcome> {
  const target = (await session.history().catch(() => [])).find(
    (r) => r.result === "success" && r.sha !== input.failedSha,
  );
  if (!target) return { state: "none", message: "no earlier successful release to roll back to" };
  const sha = target.sha;
  try {
    const rendered = await input.renderAt(sha);
    const { objects, ...result } = await session.apply(
      rendered,
      sha,
      `${input.actor} (rollback of ${input.failedSha.slice(0, 7)})`,
    );
    const health = await waitForHealth(session.target.client, objects, {
      timeoutMs: input.timeoutMs,
      signal: input.signal,
      onProgress: input.onProgress,
    });
    if (health.kind === "healthy") {
      await session.record("success");
      return { sha, state: "success", message: "", result };
    }
    if (health.kind === "cancelled") {
      await session.record("superseded");
      return { sha, state: "superseded", message: "a newer release took the environment", result };
    }
    await session.record("failure", health.message.slice(0, 200));
    return { sha, state: "failure", message: [health.message, ...health.details].join("\n"), result };
  } catch (error) {
    return { sha, state: "failure", message: error instanceof Error ? error.message : String(error) };
  }
}
