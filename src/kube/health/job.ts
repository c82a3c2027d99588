import {
  condition,
  conditionText,
  current,
  failed,
  inProgress,
  specNumber,
  statusNumber,
  suspended,
} from "./object-status.js";
import type { HealthCheck } from "./types.js";

/**
 * A Job is current once it completed, fails once its `Failed` (or `FailureTarget`) condition is true,
 * with the Job controller's reason (`BackoffLimitExceeded`, `DeadlineExceeded`) and message. A
 * suspended Job runs nothing until resumed: suspended, so it is not waited for.
 */
export const jobHealth: HealthCheck = {
  kind: "batch/Job",
  ready: "complete",
  check(job) {
    for (const type of ["Failed", "FailureTarget"]) {
      const c = condition(job, type);
      if (c?.status === "True") return failed(c.message ?? conditionText(c), c.reason ?? type);
    }
    const complete = condition(job, "Complete");
    if (complete?.status === "True") return current("completed");
    if (job.spec?.suspend === true) return suspended("suspended: runs no pods until resumed");
    const completions = specNumber(job, "completions", 1);
    return inProgress(
      `${statusNumber(job, "succeeded")}/${completions} pods succeeded, ${statusNumber(job, "active")} running`,
    );
  },
};
