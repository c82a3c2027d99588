import { permanent } from "../errors.js";
import type { RenderedObject } from "./types.js";

/** What to do with a chart's hooks other than tests: refuse the render, or leave them out. */
export type HookPolicy = "refuse" | "skip";

/** The annotation that makes an object a Helm hook; its value lists the events it runs at. */
const HOOK_ANNOTATION = "helm.sh/hook";

/** Events of `helm test`, never part of an install or upgrade. */
const TEST_EVENTS = new Set(["test", "test-success", "test-failure"]);

/** Hooks named in the message before the rest are only counted. */
const MAX_NAMED = 5;

/**
 * Applies Ferry's Helm hook policy to `helm template` output. Why hooks are not applied: a hook is
 * not desired state but a one-shot action with a lifecycle Helm drives (run at pre-/post-install,
 * upgrade, delete or rollback, wait for it, order by `helm.sh/hook-weight`, delete it by
 * `helm.sh/hook-delete-policy`), while Ferry applies declared objects and prunes the rest. Applied as
 * ordinary objects, a `pre-upgrade` migration Job would run after the Deployment it should precede,
 * would never run again on later releases (a Job is immutable), and `post-delete` hooks would run
 * at install. Users who add a chart with hooks expect them to run as Helm runs them; doing anything
 * else silently is worse than saying so. So:
 * - test hooks (`test`, `test-success`, `test-failure`) are left out, as `helm install` leaves them out;
 * - any other hook refuses the render (`refuse`, the default) with a message naming each hook and
 *   its events, so the user decides: disable the hooks through the chart's values, or set
 *   `helm.hooks: skip` in `.ferry.yml` to leave them out knowingly (`skip`).
 */
export function applyHookPolicy(objects: RenderedObject[], policy: HookPolicy, chart: string): RenderedObject[] {
  const kept: RenderedObject[] = [];
  const refused: string[] = [];
  for (const rendered of objects) {
    const events = hookEvents(rendered);
    if (events.length === 0) kept.push(rendered);
    else if (events.every((event) => TEST_EVENTS.has(event)) || policy === "skip") continue;
    else refused.push(`${rendered.object.kind} ${rendered.object.metadata.name} (${events.join(",")})`);
  }
  if (refused.length > 0) {
    const named =
      refused.slice(0, MAX_NAMED).join(", ") +
      (refused.length > MAX_NAMED ? ` and ${refused.length - MAX_NAMED} more` : "");
    throw permanent(
      `chart ${chart} has Helm hooks, which Ferry does not run: ${named}; disable them through the chart's values, or set helm.hooks: skip in .ferry.yml to leave them out`,
    );
  }
  return kept;
}

/** The hook events an object runs at; empty for an ordinary object. */
function hookEvents(rendered: RenderedObject): string[] {
  const value = rendered.object.metadata.annotations?.[HOOK_ANNOTATION];
  if (value === undefined) return [];
  return value
    .split(",")
    .map((event) => event.trim())
    .filter((event) => event !== "");
}
