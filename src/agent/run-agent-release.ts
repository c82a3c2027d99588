import type { Logger } from "pino";
import { waitTimeoutMs } from "../config/ferry-config.js";
import type { ReleaseResult } from "../domain/release.js";
import type { KubeClient } from "../kube/kube-client.js";
import { waitForHealth } from "../kube/wait-for-health.js";
import { ReleaseSession } from "../release/release-session.js";
import { short } from "../report/deploy-report.js";
import type { AgentCancel, AgentOutcome, AgentReleaseRequest } from "./agent-release-request.js";

/** What an agent's release needs besides its request. */
export interface AgentReleaseContext {
  request: AgentReleaseRequest;
  /** The agent's own cluster. */
  client: KubeClient;
  /** Reports the running status's words to central Ferry (throttled there). */
  progress(description: string): Promise<void>;
  /** Fires when central Ferry cancels the release; `cancelled()` then says why. */
  signal: AbortSignal;
  cancelled(): AgentCancel | undefined;
  log: Logger;
}

/** How long an apply runs before the agent says `deploying …` (as central releases do). */
const ANNOUNCE_MS = 1_000;

/**
 * One cluster's release, run by its agent on objects central workers rendered: open the session
 * (reads the inventory) → already released? → apply (compare, validate by dry-run, apply, prune) →
 * wait for health (ended early by a newer rollout) → record the verdict (writes the inventory) → the
 * outcome. An unhealthy release is not rolled back by the agent: rolling back renders an earlier
 * commit, which needs the forge, and an agent holds no forge credential. With `onFailure: rollback`
 * the failed outcome names the commit to roll back to (`rollbackTo`, the inventory's last success
 * before it), which central Ferry renders and sends back as a release marked `rollbackOf`.
 */
export async function runAgentRelease(ctx: AgentReleaseContext): Promise<AgentOutcome> {
  const { request: r, client, log } = ctx;
  const session = new ReleaseSession({ client, repository: r.repository, env: r.env, grant: r.grant });
  const last = (await session.history())[0];
  if (last?.sha === r.sha && last.result === "success") return { kind: "already-released", sha: r.sha };
  const announce = setTimeout(() => void ctx.progress(`deploying ${short(r.sha)} to ${r.cluster}`), ANNOUNCE_MS);
  const result = await session.apply(r.rendered, r.sha, r.actor).finally(() => clearTimeout(announce));
  log.info(
    {
      rollout: r.rolloutId,
      created: result.created.length,
      configured: result.configured.length,
      pruned: result.pruned.length,
      unchanged: result.unchanged,
    },
    "released",
  );
  const timeoutMs = waitTimeoutMs(r.env);
  if (timeoutMs === undefined) {
    await session.record("success");
    return { kind: "released", sha: r.sha, result: changes(result) };
  }
  const health = await waitForHealth(client, result.objects, {
    timeoutMs,
    signal: ctx.signal,
    onProgress: (description) => void ctx.progress(description).catch(() => undefined),
    // Messages from the cluster leave it masked of the SOPS-decrypted values the render holds.
    secrets: [...new Set(r.rendered.flatMap((o) => o.secrets ?? []))],
  });
  if (health.kind === "healthy") {
    await session.record("success");
    const suspended = health.suspended.map((s) => ({ ref: s.ref, message: s.health.message }));
    return { kind: "released", sha: r.sha, result: changes(result), ...(suspended.length > 0 ? { suspended } : {}) };
  }
  if (health.kind === "cancelled") {
    await session.record("superseded");
    const cancel = ctx.cancelled();
    const by = cancel?.kind === "superseded" ? cancel.by : r.sha;
    return { kind: "superseded", sha: r.sha, by, result: changes(result) };
  }
  await session.record("failure", health.message.slice(0, 200));
  log.warn({ rollout: r.rolloutId, reason: health.message }, "release did not become healthy");
  const rollbackTo =
    r.env.onFailure === "rollback" && r.rollbackOf === undefined
      ? (await session.history().catch(() => [])).find((h) => h.result === "success" && h.sha !== r.sha)?.sha
      : undefined;
  return {
    kind: "failed",
    sha: r.sha,
    error: [health.message, ...health.details].join("\n"),
    result: changes(result),
    ...(rollbackTo === undefined ? {} : { rollbackTo }),
  };
}

/** What a release changed, without the list of every object it holds. */
function changes(result: ReleaseResult): Omit<ReleaseResult, "objects"> {
  const { objects: _, ...rest } = result;
  return rest;
}
