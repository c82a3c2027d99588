import type { Environment } from "../config/ferry-config.js";
import type { KubeClient } from "../kube/kube-client.js";
import { waitForHealth } from "../kube/wait-for-health.js";
import type { Grant } from "../policy/policy.js";
import type { Renderer } from "../render/types.js";
import type { Checkouts } from "./checkout.js";
import { recordReleaseResult, releaseEnvironment, releaseHistory, type ReleaseResult } from "./release-environment.js";

/** How a rollback after an unhealthy release ended. */
export interface RollbackOutcome {
  /** The commit rolled back to; absent when no earlier release succeeded. */
  sha?: string;
  /** `none`: nothing to roll back to; `superseded`: a newer release took the environment during the rollback's wait. */
  state: "success" | "failure" | "superseded" | "none";
  /** Why it failed or did not happen; empty on success. */
  message: string;
  /** What re-applying the earlier release changed, once it was applied. */
  result?: ReleaseResult;
}

/** What a rollback needs. */
export interface RollbackInput {
  /** The environment's cluster. */
  client: KubeClient;
  /** The repository, as the inventory names it. */
  repository: string;
  /** The environment as the failed release saw it: its cluster, namespace and wait. */
  env: Environment;
  /** The commit whose release did not become healthy. */
  failedSha: string;
  /** Who merged the failed commit; the rollback is recorded as theirs. */
  actor: string;
  /** The job's checkouts, to fetch the earlier commit. */
  checkouts: Checkouts;
  /** Renders the earlier commit as a release would. */
  renderer: Renderer;
  /** What the policy grants the environment as the earlier commit declares it. */
  grantFor(env: Environment): Grant;
  /** How long the rollback waits for health, as long as the release did. */
  timeoutMs: number;
  /** Fires when a newer release wants the environment. */
  signal?: AbortSignal;
  /** Progress of the rollback's own wait for health. */
  onProgress?: (description: string) => void;
}

/**
 * Rolls an environment back to its last successful release from the inventory's history: renders
 * that commit again (as its own `.ferry.yml` declares the environment, in the same cluster and
 * namespace), releases it (applying it and pruning what the failed release added) and waits for its
 * health. Never throws: any error is the rollback's failure, reported beside the release's own.
 */
export async function rollBack(input: RollbackInput): Promise<RollbackOutcome> {
  const { client, env } = input;
  const target = (await releaseHistory(client, input.repository, env).catch(() => [])).find((r) => r.result === "success" && r.sha !== input.failedSha);
  if (!target) return { state: "none", message: "no earlier successful release to roll back to" };
  const sha = target.sha;
  try {
    const checkout = await input.checkouts.get(sha);
    const declared = (await checkout.config()).environments.find((e) => e.name === env.name);
    if (!declared) return { sha, state: "failure", message: `${sha.slice(0, 7)}'s .ferry.yml has no environment ${env.name}` };
    // The history lives in this cluster and namespace, so that is where the earlier release went.
    const targetEnv: Environment = { ...declared, cluster: env.cluster, namespace: env.namespace };
    const rendered = await input.renderer.render(checkout.root, targetEnv);
    const result = await releaseEnvironment({
      client,
      repository: input.repository,
      env: targetEnv,
      grant: input.grantFor(targetEnv),
      rendered,
      sha,
      actor: `${input.actor} (rollback of ${input.failedSha.slice(0, 7)})`,
      awaitHealth: true,
    });
    const health = await waitForHealth(client, result.objects, { timeoutMs: input.timeoutMs, signal: input.signal, onProgress: input.onProgress });
    if (health.kind === "healthy") {
      await recordReleaseResult(client, input.repository, targetEnv, sha, "success");
      return { sha, state: "success", message: "", result };
    }
    if (health.kind === "cancelled") {
      await recordReleaseResult(client, input.repository, targetEnv, sha, "superseded");
      return { sha, state: "superseded", message: "a newer release took the environment", result };
    }
    await recordReleaseResult(client, input.repository, targetEnv, sha, "failure", health.message.slice(0, 200));
    return { sha, state: "failure", message: [health.message, ...health.details].join("\n"), result };
  } catch (error) {
    return { sha, state: "failure", message: error instanceof Error ? error.message : String(error) };
  }
}
