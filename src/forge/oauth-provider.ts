import type { ForgeKind } from "../domain/repo.js";

/**
 * A forge's OAuth login for the web view (GitHub App user authorization, a GitLab OAuth
 * application): where to send the browser, how to turn the code it comes back with into the user's
 * token, who the user is, and whether the user can read a repository. Tokens never appear in errors.
 */
export interface OAuthProvider {
  /** The forge users sign in with. */
  readonly forge: ForgeKind;
  /** The forge's name for people (`GitHub`, `GitLab`). */
  readonly label: string;
  /** The forge's authorization page, asking to come back to `redirectUri` with `state`. */
  authorizeUrl(state: string, redirectUri: string): string;
  /** Exchanges the code the forge sent back for the user's access token; throws when the forge refuses it. */
  exchangeCode(code: string, redirectUri: string): Promise<string>;
  /** The signed-in user's login (username). */
  userLogin(token: string): Promise<string>;
  /** Whether the user can read the repository (`owner/name`, or a GitLab project's path); false when the forge says not found. */
  canRead(token: string, fullName: string): Promise<boolean>;
}

/** A forge's OAuth endpoint refused or failed; the message names the forge's error code, never a secret. */
export class OAuthError extends Error {
  /** An error saying what the forge answered. */
  constructor(message: string) {
    super(message);
    this.name = "OAuthError";
  }
}

/** Reads a JSON answer, or undefined when the body is not JSON. */
export async function jsonOf(res: Response): Promise<Record<string, unknown> | undefined> {
  try {
    const body: unknown = await res.json();
    return typeof body === "object" && body !== null ? (body as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
