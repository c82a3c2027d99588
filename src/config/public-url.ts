import type { ServerConfig } from "./server-config.js";

/** Where links in statuses and comments point. */
export interface PublicUrl {
  url: string;
  /** True when neither the server config nor FERRY_PUBLIC_URL gave it: `url` is then Ferry's own listening address. */
  fallback: boolean;
}

/**
 * The base of links in statuses and comments (plan and rollout pages): the server config's
 * `publicUrl`, else FERRY_PUBLIC_URL, else `listening`, Ferry's own address (`http://127.0.0.1:3000`),
 * which people on the forge cannot open.
 */
export function publicUrlOf(
  config: Pick<ServerConfig, "publicUrl">,
  env: NodeJS.ProcessEnv,
  listening: string,
): PublicUrl {
  const given = config.publicUrl ?? (env.FERRY_PUBLIC_URL || undefined);
  return given === undefined ? { url: listening, fallback: true } : { url: given, fallback: false };
}
