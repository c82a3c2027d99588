import { CronExpressionParser } from "cron-parser";
import { z } from "zod";
import { durationMs, durationSchema } from "../config/duration.js";

/** Whether `tz` is a time zone this runtime knows (IANA name, e.g. `Europe/Berlin`). */
function knownTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The fields of a freeze window, shared by `.ferry.yml` and the server config. */
const windowFields = {
  /** When it opens: five cron fields, or six with seconds first. */
  cron: z.string().min(1),
  duration: durationSchema("30d"),
  /** Names of the environments it freezes. */
  environments: z.array(z.string().min(1)).min(1),
  /** Said on the pending status of each commit it holds back. */
  reason: z.string().min(1).max(100).optional(),
  timezone: z.string().refine(knownTimeZone, { message: "must be an IANA time zone such as Europe/Berlin" }).optional(),
};

/** Refuses a cron expression cron-parser cannot read, saying why. */
function checkCron(window: { cron: string; timezone?: string | undefined }, ctx: z.RefinementCtx): void {
  try {
    CronExpressionParser.parse(window.cron, { tz: window.timezone ?? "UTC" });
  } catch (error) {
    ctx.addIssue({ code: "custom", path: ["cron"], message: `not a cron expression: ${(error as Error).message}` });
  }
}

/**
 * A recurring window when releases of some environments do not start (`.ferry.yml`'s `freeze`): it
 * opens at each time `cron` names (in `timezone`, UTC by default) and lasts `duration`.
 */
export const freezeWindowSchema = z.strictObject(windowFields).superRefine(checkCron);

/** The server config's freeze window: the same, for the repositories it names (globs; all when absent). */
export const serverFreezeWindowSchema = z
  .strictObject({ ...windowFields, repositories: z.array(z.string().min(1)).min(1).optional() })
  .superRefine(checkCron);

/** A freeze window, as configured. */
export type FreezeWindow = z.output<typeof freezeWindowSchema>;

/** A freeze in force: until when (epoch ms), and why. */
export interface ActiveFreeze {
  until: number;
  reason: string;
}

/**
 * The freeze `windows` put on environment `environment` at `now`: of the windows naming it, those
 * whose latest opening is less than their duration ago, the one lasting longest. Undefined when none is in force.
 */
export function activeWindow(windows: FreezeWindow[], environment: string, now: number): ActiveFreeze | undefined {
  let found: ActiveFreeze | undefined;
  for (const window of windows) {
    if (!window.environments.includes(environment)) continue;
    // A millisecond on, so a window opening exactly now counts as open.
    const opened = CronExpressionParser.parse(window.cron, {
      currentDate: new Date(now + 1),
      tz: window.timezone ?? "UTC",
    })
      .prev()
      .getTime();
    const until = opened + durationMs(window.duration);
    if (until > now && (found === undefined || until > found.until))
      found = { until, reason: window.reason ?? `freeze window (${window.cron})` };
  }
  return found;
}
