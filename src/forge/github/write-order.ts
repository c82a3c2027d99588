import Bottleneck from "bottleneck";

/** Bottleneck priorities: 0 runs first, 9 last; 5 is the default. */
const FIRST = 1;
const LAST = 9;

/**
 * The priority of a write in the installation's one-per-second queue: deploy statuses first (people
 * wait for them, and a merge's final status is what says it worked), deployment records and comments
 * last (read later), anything else (other statuses: drift, plans) between; undefined for a read,
 * which is not spaced. `context` is a status's context, when the write is one.
 */
export function writePriority(method: string, url: string, context?: string): number | undefined {
  if (method === "GET" || method === "HEAD") return undefined;
  const path = url.replace(/^[a-z]+:\/\/[^/]+/i, "").replace(/\?.*$/, "");
  if (/\/statuses\/[^/]+$/.test(path)) return context?.startsWith("ferry/deploy") ? FIRST : undefined;
  if (/\/deployments(\/|$)|\/comments(\/|$)/.test(path)) return LAST;
  return undefined;
}

/**
 * GitHub asks integrators to space content-creating writes at least a second apart. This gate does
 * so per installation and, unlike plugin-throttling's first-come queue (which Ferry then runs
 * without `minTime`), lets a waiting commit status go before deployment records and comments that
 * were queued earlier: a merge's final status comes one write after its `queued`, not behind every
 * record the deploy made meanwhile. Equal priorities keep their order.
 */
export class WriteOrder {
  private readonly gates = new Bottleneck.Group({ maxConcurrent: 1, minTime: 0 });

  /** Spaces each installation's writes `spacingMs` apart (GitHub asks for a second). */
  constructor(private readonly spacingMs = 1000) {}

  /**
   * Waits for `key`'s next write slot at the write's priority (a read returns at once). A slot is
   * held for the spacing after it starts, so writes queued meanwhile wait in priority order (with
   * Bottleneck's `minTime` a job is committed as soon as it is queued, and priority no longer counts).
   */
  turn(key: string, method: string, url: string, context?: string): Promise<void> {
    if (method === "GET" || method === "HEAD") return Promise.resolve();
    const priority = writePriority(method, url, context) ?? 5;
    return new Promise((resolve, reject) => {
      this.gates
        .key(key)
        .schedule({ priority }, () => {
          resolve();
          return new Promise<void>((slotEnds) => setTimeout(slotEnds, this.spacingMs));
        })
        .catch(reject);
    });
  }
}
