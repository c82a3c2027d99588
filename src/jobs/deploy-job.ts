import type { RedisClient } from "../queue/redis-connection.js";
import type { Logger } from "pino";
import { waitTimeoutMs, type Environment } from "../config/ferry-config.js";
import type { ServerConfig } from "../config/server-config.js";
import { FerryError, isPermanent } from "../errors.js";
import type { Forge, ForgeFactory, StatusState } from "../forge/types.js";
import type { ClusterRegistry } from "../kube/cluster-registry.js";
import type { KubeClient } from "../kube/kube-client.js";
import { waitForHealth } from "../kube/wait-for-health.js";
import { grantFor } from "../policy/policy.js";
import { withLock } from "../queue/environment-lock.js";
import type { DeployRequest } from "../domain/requests.js";
import { watchForNewerRelease } from "../queue/newer-release.js";
import { Checkouts } from "../release/checkout.js";
import { lastRelease, recordReleaseResult, releaseEnvironment, type ReleaseResult } from "../release/release-environment.js";
import { rollBack, type RollbackOutcome } from "../release/roll-back.js";
import type { Renderer } from "../render/types.js";
import { deployContext, failureDescription, firstLine, releaseSummary, resultComment, resultMarker, short, supersededDescription, type EnvironmentOutcome } from "../report/deploy-report.js";
import { finalStatusOnce } from "../report/final-status-once.js";
import { retryTransient } from "./retry-transient.js";
import { ProgressStatus } from "../report/progress-status.js";

/** What a deploy job needs, built once by the composition root. */
export interface DeployJobDeps {
  config: ServerConfig;
  forges: ForgeFactory;
  clusters: ClusterRegistry;
  renderer: Renderer;
  /** Redis for the per-environment release lock. */
  redis: RedisClient;
  log: Logger;
  /** How long the release lock of a worker that died stays taken (default 30 s). */
  claimMs?: number;
}

/** Which attempt this is, so the last one reports failure instead of "retrying". */
export interface Attempt {
  number: number;
  of: number;
}

/**
 * Deploys a merge or push: for each environment whose branch received it, release the branch's
 * current head (never an older commit) and wait until its workloads are up, then report statuses
 * and the result comment. Permanent
 * errors are reported and end the job; transient ones are reported as retrying and rethrown so
 * BullMQ retries with backoff, until the last attempt reports them as failures.
 */
export async function runDeployJob(request: DeployRequest, attempt: Attempt, deps: DeployJobDeps): Promise<EnvironmentOutcome[]> {
  const log = deps.log.child({ delivery: request.deliveryId, repository: request.repo.fullName, sha: request.sha, branch: request.branch });
  // Each commit gets one final deploy status, however often this job is retried or others report on it.
  const forge = finalStatusOnce(await deps.forges(request.repo), deps.redis);
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
    const outcomes = await Promise.all(environments.map((env) => deployEnvironment(env, request, attempt, { ...deps, log }, forge, checkouts, head)));
    const changes = request.change !== undefined ? [request.change] : await forge.changesMergedAs(request.sha);
    // When this commit was released before (by this job's earlier attempt, whose comment failed), its comment knows more: keep it.
    const keep = outcomes.every((o) => o.kind === "already-released" && o.sha === request.sha);
    for (const change of changes) await retryTransient(() => forge.ensureComment(change, resultMarker(request.sha), resultComment(request.sha, outcomes), { keep }));
    return outcomes;
  } finally {
    await checkouts.dispose();
  }
}

async function deployEnvironment(env: Environment, request: DeployRequest, attempt: Attempt, deps: DeployJobDeps, forge: Forge, checkouts: Checkouts, wanted: string): Promise<EnvironmentOutcome> {
  const context = deployContext(env.name);
  const log = deps.log.child({ environment: env.name });
  const lockKey = `ferry:lock:release:${request.repo.forge}:${request.repo.fullName}:${env.name}`;
  let head = request.sha;
  try {
    if (attempt.number === 1) await forge.setStatus(request.sha, { context, state: "pending", description: "queued" });
    // While it waits, the lock lists the commit this job wants, so a release waiting for health can
    // tell a newer one is queued and make way.
    return await withLock(
      deps.redis,
      lockKey,
      async () => {
        // Read the head again under the lock: a release that waited must not deploy an older commit
        // than the one a newer release just deployed.
        head = await forge.branchHead(request.branch);
        return await releaseHead(head, env, request, { ...deps, log }, forge, checkouts, lockKey);
      },
      { waiter: wanted, ...(deps.claimMs === undefined ? {} : { ttlMs: deps.claimMs }) },
    );
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (!isPermanent(error) && attempt.number < attempt.of) {
      log.warn({ err: error }, "release failed, will retry");
      await forge.setStatus(request.sha, { context, state: "pending", description: `retrying (attempt ${attempt.number}/${attempt.of}): ${firstLine(message)}` }).catch(() => undefined);
      throw error;
    }
    log.warn({ err: error }, "release failed");
    // A transient error on the last attempt says the retries are spent, so it reads apart from a permanent failure.
    const spent = isPermanent(error) ? "" : `gave up after ${attempt.of} attempts: `;
    for (const sha of new Set([request.sha, head])) await forge.setStatus(sha, { context, state: "failure", description: `${spent}${firstLine(message)}` });
    return { env, kind: "failed", sha: head, error: `${spent}${message}` };
  }
}

/** The release of the branch head to one environment, as its steps after rendering see it. */
interface HeadRelease {
  request: DeployRequest;
  deps: DeployJobDeps;
  forge: Forge;
  checkouts: Checkouts;
  client: KubeClient;
  /** The environment as the head's `.ferry.yml` declares it. */
  env: Environment;
  head: string;
  lockKey: string;
  /** Sets the environment's deploy status on the requested commit and on the head. */
  report: (state: StatusState, description: string) => Promise<void>;
}

/**
 * Releases the branch head to one environment, under its lock: render → apply → wait until its
 * workloads are up → report (rolling back first when the environment asks for it).
 */
async function releaseHead(head: string, env: Environment, request: DeployRequest, deps: DeployJobDeps, forge: Forge, checkouts: Checkouts, lockKey: string): Promise<EnvironmentOutcome> {
  const { log } = deps;
  const checkout = await checkouts.get(head);
  const headEnv = (await checkout.config()).environments.find((e) => e.name === env.name && e.branch === request.branch) ?? env;
  const grant = grantFor(deps.config, request.repo.fullName, headEnv);
  const client = await deps.clusters.client(headEnv.cluster);
  const last = await lastRelease(client, request.repo.fullName, headEnv);
  const context = deployContext(headEnv.name);
  if (last?.sha === head && last.result === "success") {
    // Another job released the head while this one waited: close this job's pending status.
    const description = request.sha === head ? `deployed ${short(head)} (released by an earlier job)` : `included in release of ${short(head)}`;
    await forge.setStatus(request.sha, { context, state: "success", description });
    log.info({ head }, "head already released");
    return { env: headEnv, kind: "already-released", sha: head };
  }
  const report = async (state: StatusState, description: string) => {
    for (const sha of new Set([request.sha, head])) await forge.setStatus(sha, { context, state, description });
  };
  const release: HeadRelease = { request, deps, forge, checkouts, client, env: headEnv, head, lockKey, report };
  await report("running", `deploying ${short(head)} to ${headEnv.cluster}`);
  const rendered = await deps.renderer.render(checkout.root, headEnv);
  const timeoutMs = waitTimeoutMs(headEnv);
  const result = await releaseEnvironment({ client, repository: request.repo.fullName, env: headEnv, grant, rendered, sha: head, actor: request.actor, awaitHealth: timeoutMs !== undefined });
  log.info({ head, created: result.created.length, configured: result.configured.length, pruned: result.pruned.length, unchanged: result.unchanged }, "released");
  if (timeoutMs === undefined) return reportDeployed(release, result);
  return gateOnHealth(release, result, timeoutMs);
}

/**
 * Waits until the release's workloads are up and reports the verdict: deployed; superseded (a newer
 * release of the environment ended the wait); or failed, naming the object and reason, after rolling
 * back to the last good release when the environment asks for it.
 */
async function gateOnHealth(release: HeadRelease, result: ReleaseResult, timeoutMs: number): Promise<EnvironmentOutcome> {
  const { request, deps, forge, client, env, head } = release;
  const newer = watchForNewerRelease(deps.redis, release.lockKey, head, () => forge.branchHead(request.branch));
  try {
    const health = await withProgress((d) => release.report("running", d), (onProgress) => waitForHealth(client, result.objects, { timeoutMs, signal: newer.signal, onProgress }));
    const record = (verdict: "success" | "failure" | "superseded", summary?: string) => recordReleaseResult(client, request.repo.fullName, env, head, verdict, summary);
    if (health.kind === "healthy") {
      await record("success");
      return reportDeployed(release, result);
    }
    if (health.kind === "cancelled") {
      const by = newer.newer() ?? head;
      await record("superseded");
      deps.log.info({ head, by }, "superseded while waiting for health");
      await release.report("success", supersededDescription(by));
      return { env, kind: "superseded", sha: head, by, result };
    }
    await record("failure", health.message.slice(0, 200));
    deps.log.warn({ head, reason: health.message }, "release did not become healthy");
    let rollback: RollbackOutcome | undefined;
    if (env.onFailure === "rollback") {
      await release.report("running", `rolling back: ${health.message}`);
      rollback = await withProgress(
        (d) => release.report("running", `rolling back: ${d}`),
        (onProgress) =>
          rollBack({ client, repository: request.repo.fullName, env, failedSha: head, actor: request.actor, checkouts: release.checkouts, renderer: deps.renderer, grantFor: (e) => grantFor(deps.config, request.repo.fullName, e), timeoutMs, signal: newer.signal, onProgress }),
      );
      deps.log.info({ head, rollback: rollback.sha, state: rollback.state }, "rolled back");
    }
    const error = [health.message, ...health.details].join("\n");
    await release.report("failure", failureDescription(error, rollback));
    return { env, kind: "failed", sha: head, error, result, rollback };
  } finally {
    newer.stop();
  }
}

/** Runs `wait`, posting its progress as a throttled running status, and returns once the last post landed. */
async function withProgress<T>(post: (description: string) => Promise<void>, wait: (onProgress: (description: string) => void) => Promise<T>): Promise<T> {
  const progress = new ProgressStatus(post);
  try {
    return await wait((description) => progress.update(description));
  } finally {
    await progress.settled();
  }
}

/** Reports a healthy release: its summary on the head, "included in release of" on an older requested commit. */
async function reportDeployed(release: HeadRelease, result: ReleaseResult): Promise<EnvironmentOutcome> {
  const context = deployContext(release.env.name);
  for (const sha of new Set([release.request.sha, release.head])) await release.forge.setStatus(sha, { context, state: "success", description: deployedDescription(sha, release.head, result) });
  return { env: release.env, kind: "released", sha: release.head, result };
}

/** The success status of a release on `sha`: its summary, on an included older commit naming the release. */
function deployedDescription(sha: string, head: string, result: ReleaseResult): string {
  return sha === head ? `deployed: ${releaseSummary(result)}` : `included in release of ${short(head)}: ${releaseSummary(result)}`;
}

async function reportConfigError(forge: Forge, request: DeployRequest, error: FerryError): Promise<void> {
  await forge.setStatus(request.sha, { context: "ferry/deploy", state: "failure", description: firstLine(error.message) });
  const changes = request.change !== undefined ? [request.change] : await forge.changesMergedAs(request.sha);
  const body = [resultMarker(request.sha), `### Ferry release · \`${short(request.sha)}\``, "", "Nothing was deployed: the commit's files could not be read safely, or its configuration is invalid.", "", "```", error.message, "```"].join("\n");
  for (const change of changes) await forge.ensureComment(change, resultMarker(request.sha), body);
}
