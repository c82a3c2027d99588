import type { Logger } from "pino";
import type { DeclaredEnvironment } from "../config/ferry-config.js";
import type { ServerConfig } from "../config/server-config.js";
import type { RepoRef } from "../domain/repo.js";
import { isPermanent } from "../errors.js";
import { rolloutWaves } from "../fleet/rollout-waves.js";
import type { Queues } from "../queue/queues.js";
import { reconcileSchedulerId } from "../queue/reconcile-request.js";
import { reconcileData } from "./reconcile-data.js";
import type { WatchRegistry } from "../watch/watch-registry.js";

/** What scheduling a branch's reconciles needs. */
export interface ScheduleReconcilesInput {
  queues: Queues;
  /** Forgets the watches of what is no longer reconciled. */
  watches: WatchRegistry;
  config: ServerConfig;
  log: Logger;
  repo: RepoRef;
  branch: string;
  /** The environments the branch head's `.ferry.yml` deploys from the branch. */
  environments: DeclaredEnvironment[];
  /** The names of those whose rollout of the head started (or was already running). */
  rolledOut: ReadonlySet<string>;
}

/**
 * After a deploy of a branch: each (environment, cluster) the head rolls out to is reconciled at
 * its interval (the scheduler is made, or updated with the head's settings), and every scheduler of
 * the branch for an environment or cluster the head's `.ferry.yml` no longer targets is removed.
 * An environment that declares itself but could not start (a selector matching nothing, policy) keeps
 * its schedulers: its clusters still run what they last released.
 */
export async function scheduleReconciles(input: ScheduleReconcilesInput): Promise<void> {
  const { queues, config, log, repo, branch } = input;
  const kept = new Set<string>();
  for (const declared of input.environments) {
    if (!input.rolledOut.has(declared.name)) {
      kept.add(declared.name);
      continue;
    }
    let targets: ReturnType<typeof rolloutWaves>["targets"];
    try {
      targets = rolloutWaves(declared, config).targets;
    } catch (error) {
      if (!isPermanent(error)) throw error;
      kept.add(declared.name);
      continue;
    }
    for (const [cluster, env] of targets) {
      const { data, raisedFrom } = reconcileData(repo, branch, env, cluster, config);
      if (raisedFrom !== undefined) {
        log.warn(
          {
            repository: repo.fullName,
            environment: env.name,
            cluster,
            asked: raisedFrom,
            floor: config.reconcile.minInterval,
          },
          "reconcile.interval is below the server's reconcile.minInterval: raised to it",
        );
      }
      await queues.scheduleReconcile(data);
      kept.add(`${env.name}\n${cluster}`);
    }
  }
  for (const scheduled of await queues.reconcileSchedules(repo, branch)) {
    if (kept.has(scheduled.environment) || kept.has(`${scheduled.environment}\n${scheduled.cluster}`)) continue;
    await queues.unscheduleReconcile(repo, scheduled.environment, scheduled.cluster);
    await input.watches.forget(reconcileSchedulerId(repo, scheduled.environment, scheduled.cluster), scheduled.cluster);
    log.info(
      { repository: repo.fullName, environment: scheduled.environment, cluster: scheduled.cluster },
      "no longer reconciled: the branch head no longer deploys there",
    );
  }
}
