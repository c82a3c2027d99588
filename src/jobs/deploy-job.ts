import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Environment } from "../config/ferry-config.js";
import type { ServerConfig } from "../config/server-config.js";
import { FerryError, isPermanent } from "../errors.js";
import type { Forge, ForgeFactory } from "../forge/types.js";
import type { ClusterRegistry } from "../kube/cluster-registry.js";
import { grantFor } from "../policy/policy.js";
import { withLock } from "../queue/environment-lock.js";
import type { DeployRequest } from "../queue/deploy-request.js";
import { Checkouts } from "../release/checkout.js";
import { lastRelease, releaseEnvironment } from "../release/release-environment.js";
import type { Renderer } from "../render/types.js";
import { deployContext, firstLine, releaseSummary, resultComment, resultMarker, short, type EnvironmentOutcome } from "../report/deploy-report.js";

/** What a deploy job needs, built once by the composition root. */
export interface DeployJobDeps {
  config: ServerConfig;
  forges: ForgeFactory;
  clusters: ClusterRegistry;
  renderer: Renderer;
  /** Redis for the per-environment release lock. */
  redis: Redis;
  log: Logger;
}

/** Which attempt this is, so the last one reports failure instead of "retrying". */
export interface Attempt {
  number: number;
  of: number;
}

/**
 * Deploys a merge or push: for each environment whose branch received it, release the branch's
 * current head (never an older commit), then report statuses and the result comment. Permanent
 * errors are reported and end the job; transient ones are reported as retrying and rethrown so
 * BullMQ retries with backoff, until the last attempt reports them as failures.
 */
export async function runDeployJob(request: DeployRequest, attempt: Attempt, deps: DeployJobDeps): Promise<EnvironmentOutcome[]> {
  const log = deps.log.child({ delivery: request.deliveryId, repository: request.repo.fullName, sha: request.sha, branch: request.branch });
  const forge = await deps.forges(request.repo);
  const checkouts = new Checkouts(forge);
  try {
    const head = await forge.branchHead(request.branch);
    let environments: Environment[];
    try {
      environments = (await (await checkouts.get(head)).config()).environments.filter((e) => e.branch === request.branch);
    } catch (error) {
      if (!isPermanent(error)) throw error;
      await reportConfigError(forge, request, error as FerryError);
      return [];
    }
    if (environments.length === 0) {
      log.info("no environment deploys this branch");
      return [];
    }
    const outcomes = await Promise.all(environments.map((env) => deployEnvironment(env, request, attempt, { ...deps, log }, forge, checkouts)));
    const changes = request.change !== undefined ? [request.change] : await forge.changesMergedAs(request.sha);
    for (const change of changes) await forge.ensureComment(change, resultMarker(request.sha), resultComment(request.sha, outcomes));
    return outcomes;
  } finally {
    await checkouts.dispose();
  }
}

async function deployEnvironment(env: Environment, request: DeployRequest, attempt: Attempt, deps: DeployJobDeps, forge: Forge, checkouts: Checkouts): Promise<EnvironmentOutcome> {
  const context = deployContext(env.name);
  const log = deps.log.child({ environment: env.name });
  const lockKey = `ferry:lock:release:${request.repo.forge}:${request.repo.fullName}:${env.name}`;
  let head = request.sha;
  try {
    if (attempt.number === 1) await forge.setStatus(request.sha, { context, state: "pending", description: "queued" });
    return await withLock(deps.redis, lockKey, async () => {
      // Read the head again under the lock: a release that waited must not deploy an older commit
      // than the one a newer release just deployed.
      head = await forge.branchHead(request.branch);
      const checkout = await checkouts.get(head);
      const headEnv = (await checkout.config()).environments.find((e) => e.name === env.name && e.branch === request.branch) ?? env;
      const grant = grantFor(deps.config, request.repo.fullName, headEnv);
      const client = await deps.clusters.client(headEnv.cluster);
      const last = await lastRelease(client, request.repo.fullName, headEnv);
      if (last?.sha === head && last.result === "success") {
        // Another job released the head while this one waited: close this job's pending status.
        const description = request.sha === head ? `deployed ${short(head)} (released by an earlier job)` : `included in release of ${short(head)}`;
        await forge.setStatus(request.sha, { context, state: "success", description });
        log.info({ head }, "head already released");
        return { env: headEnv, kind: "already-released", sha: head };
      }
      for (const sha of new Set([request.sha, head])) await forge.setStatus(sha, { context, state: "running", description: `deploying ${short(head)} to ${headEnv.cluster}` });
      const rendered = await deps.renderer.render(checkout.root, headEnv);
      const result = await releaseEnvironment({ client, repository: request.repo.fullName, env: headEnv, grant, rendered, sha: head, actor: request.actor });
      log.info({ head, created: result.created.length, configured: result.configured.length, pruned: result.pruned.length, unchanged: result.unchanged }, "released");
      await forge.setStatus(head, { context, state: "success", description: `deployed: ${releaseSummary(result)}` });
      if (request.sha !== head) await forge.setStatus(request.sha, { context, state: "success", description: `included in release of ${short(head)}: ${releaseSummary(result)}` });
      return { env: headEnv, kind: "released", sha: head, result };
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (!isPermanent(error) && attempt.number < attempt.of) {
      log.warn({ err: error }, "release failed, will retry");
      await forge.setStatus(request.sha, { context, state: "pending", description: `retrying (attempt ${attempt.number}/${attempt.of}): ${firstLine(message)}` }).catch(() => undefined);
      throw error;
    }
    log.warn({ err: error }, "release failed");
    for (const sha of new Set([request.sha, head])) await forge.setStatus(sha, { context, state: "failure", description: firstLine(message) });
    return { env, kind: "failed", sha: head, error: message };
  }
}

async function reportConfigError(forge: Forge, request: DeployRequest, error: FerryError): Promise<void> {
  await forge.setStatus(request.sha, { context: "ferry/deploy", state: "failure", description: firstLine(error.message) });
  const changes = request.change !== undefined ? [request.change] : await forge.changesMergedAs(request.sha);
  const body = [resultMarker(request.sha), `### Ferry release · \`${short(request.sha)}\``, "", "Nothing was deployed: the configuration is invalid.", "", "```", error.message, "```"].join("\n");
  for (const change of changes) await forge.ensureComment(change, resultMarker(request.sha), body);
}
