/** The environment variables that carry a forge credential or a secret of central Ferry. */
export const CENTRAL_SECRETS: readonly string[] = [
  "APP_ID",
  "PRIVATE_KEY",
  "PRIVATE_KEY_PATH",
  "WEBHOOK_SECRET",
  "GITHUB_TOKEN",
  "GITLAB_TOKEN",
  "GITLAB_WEBHOOK_SECRET",
  "FERRY_GITHUB_CLIENT_SECRET",
  "FERRY_GITLAB_CLIENT_SECRET",
  "FERRY_SESSION_SECRET",
  "FERRY_ADMIN_PASSWORD",
];

/**
 * The names (never the values) of central Ferry's secrets set in `env`. An agent refuses to start
 * with any of them: it runs in a cluster its operators may not fully trust, and needs none of them.
 */
export function forgeCredentialsIn(env: NodeJS.ProcessEnv): string[] {
  return CENTRAL_SECRETS.filter((name) => (env[name] ?? "") !== "");
}
