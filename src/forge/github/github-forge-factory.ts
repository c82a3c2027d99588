import type { Logger } from "pino";
import type { Probot } from "probot";
import { permanent } from "../../errors.js";
import { cachedLookup } from "../cached-lookup.js";
import type { ForgeFactory } from "../types.js";
import { ChecksPermission } from "./checks-permission.js";
import { githubError } from "./github-error.js";
import { GitHubForge, splitFullName } from "./github-forge.js";

/** Options for `githubForgeFactory`. */
export interface GitHubForgeFactoryOptions {
  /** The app's bot login (e.g. `ferry[bot]`); when omitted it is looked up once with `GET /app`. */
  botLogin?: string;
  /** Where an installation's refusal of check runs (no `checks: write`) is logged, once per period. */
  log?: Logger;
  /** Installations known to refuse check runs (default: a new `ChecksPermission`, for this factory's forges). */
  checksPermission?: ChecksPermission;
}

/**
 * A `ForgeFactory` for GitHub: authenticates as the repository's app installation (looking the
 * installation up as the app when the job does not carry its id) and returns a `GitHubForge`.
 * Build Probot with `overrides: { Octokit: ferryOctokit(...) }` so rate limits are honoured.
 */
export function githubForgeFactory(probot: Probot, options: GitHubForgeFactoryOptions = {}): ForgeFactory {
  // The bot login never changes while the app runs; a failed lookup is forgotten so the next job retries it.
  const known = options.botLogin;
  const checksPermission = options.checksPermission ?? new ChecksPermission();
  const findBotLogin = known === undefined ? cachedLookup(() => lookUpBotLogin(probot)) : () => Promise.resolve(known);

  return async (repo) => {
    if (repo.forge !== "github") throw permanent(`GitHub: cannot act on a ${repo.forge} repository (${repo.fullName})`);
    const { owner, name } = splitFullName(repo.fullName);
    const installationId = repo.installationId ?? (await lookUpInstallation(probot, owner, name));
    const [octokit, login] = await Promise.all([
      probot.auth(installationId).catch((error: unknown) => {
        throw githubError(error, `authenticating as installation ${installationId}`);
      }),
      findBotLogin(),
    ]);
    return new GitHubForge({
      octokit,
      repo: { ...repo, installationId },
      botLogin: login,
      checksPermission,
      ...(options.log === undefined ? {} : { log: options.log }),
    });
  };
}

/** `<slug>[bot]`, the login GitHub gives the app's comments and statuses. */
async function lookUpBotLogin(probot: Probot): Promise<string> {
  const doing = "reading the app's slug";
  try {
    const app = await probot.auth();
    const { data } = await app.rest.apps.getAuthenticated();
    const slug = data?.slug;
    if (slug === undefined || slug === "") throw permanent(`GitHub: ${doing}: GET /app returned no slug`);
    return `${slug}[bot]`;
  } catch (error) {
    throw githubError(error, doing);
  }
}

/** The id of the app installation on `owner/name`; a 404 means the app is not installed there. */
async function lookUpInstallation(probot: Probot, owner: string, name: string): Promise<number> {
  try {
    const app = await probot.auth();
    const { data } = await app.rest.apps.getRepoInstallation({ owner, repo: name });
    return data.id;
  } catch (error) {
    throw githubError(error, `finding the app installation on ${owner}/${name}`);
  }
}
