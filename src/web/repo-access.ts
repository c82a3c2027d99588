import type { OAuthProvider } from "../forge/oauth-provider.js";
import type { WebSession } from "./web-sessions.js";

/** How long the forge's answer on whether a viewer can read a repository is kept: 60 s. */
export const ACCESS_TTL_MS = 60_000;

/** Above this many cached answers, expired ones are dropped. */
const PRUNE_ABOVE = 10_000;

/**
 * Whether a signed-in viewer can read a repository, asked of the forge with the viewer's own token
 * and cached briefly per session, so a page listing many environments asks once per repository and
 * a lost permission shows within a minute.
 */
export class RepoAccess {
  private readonly answers = new Map<string, { readable: Promise<boolean>; until: number }>();

  /** Asks `providers` (one per forge); `now` is the clock the cache runs on. */
  constructor(
    private readonly providers: OAuthProvider[],
    private readonly now: () => number = Date.now,
  ) {}

  /** True when the viewer can read `fullName` on `forge`; false for another forge than the viewer signed in with. */
  async canRead(session: WebSession, forge: string, fullName: string): Promise<boolean> {
    if (forge !== session.forge) return false;
    const provider = this.providers.find((p) => p.forge === forge);
    if (!provider) return false;
    const key = `${session.id}\n${fullName}`;
    const at = this.now();
    const cached = this.answers.get(key);
    if (cached && cached.until > at) return cached.readable;
    if (this.answers.size > PRUNE_ABOVE) for (const [k, v] of this.answers) if (v.until <= at) this.answers.delete(k);
    const readable = provider.canRead(session.token, fullName);
    this.answers.set(key, { readable, until: at + ACCESS_TTL_MS });
    // A forge that failed to answer is asked again next time, not remembered as a refusal.
    readable.catch(() => this.answers.delete(key));
    return readable;
  }
}
