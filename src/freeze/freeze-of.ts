import type { RepoRef } from "../domain/repo.js";
import { globMatch } from "../policy/policy.js";
import type { FreezeStore } from "./freeze-store.js";
import { activeWindow, type ActiveFreeze, type FreezeWindow } from "./freeze-window.js";

/** What decides whether an environment is frozen. */
export interface FreezeOfInput {
  repo: RepoRef;
  environment: string;
  /** The windows of the commit's `.ferry.yml`. */
  declared: FreezeWindow[];
  /** The server config's windows, each for the repositories it names (all when none). */
  server: Array<FreezeWindow & { repositories?: string[] | undefined }>;
  /** Ad-hoc freezes (`/ferry freeze`). */
  store: FreezeStore;
  now: number;
}

/**
 * The freeze in force on an environment: of the repository's windows, the server's windows for the
 * repository and an ad-hoc freeze, the one ending last (so a release waits for all of them).
 */
export async function freezeOf(input: FreezeOfInput): Promise<ActiveFreeze | undefined> {
  const { repo, environment, now } = input;
  const server = input.server.filter(
    (w) => w.repositories === undefined || w.repositories.some((glob) => globMatch(glob, repo.fullName)),
  );
  const adHoc = await input.store.current(repo, environment, now);
  const found = [
    activeWindow(input.declared, environment, now),
    activeWindow(server, environment, now),
    adHoc === undefined ? undefined : { until: adHoc.until, reason: `${adHoc.reason} (frozen by @${adHoc.by})` },
  ].filter((f) => f !== undefined);
  return found.sort((a, b) => b.until - a.until)[0];
}
