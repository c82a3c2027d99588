/** What `after:` checks need of an environment. */
export interface AfterLink {
  /** The environment's name. */
  name: string;
  /** The branch it is deployed from. */
  branch: string;
  /** The environment that must have released a commit before this one does. */
  after?: string | undefined;
}

/** A problem with one environment's `after:`. */
export interface AfterProblem {
  /** Position of the environment in the file's list. */
  index: number;
  /** What is wrong, for the `after` field of that environment. */
  message: string;
}

/**
 * Everything wrong with the `after:` keys of `environments`: a name no environment has, the
 * environment itself, an environment of another branch (promotion waits for the same commit), and
 * chains that come back to where they started (reported once, at the cycle's first environment).
 */
export function afterProblems(environments: AfterLink[]): AfterProblem[] {
  const problems: AfterProblem[] = [];
  const indexOf = new Map<string, number>();
  environments.forEach((env, i) => {
    if (!indexOf.has(env.name)) indexOf.set(env.name, i);
  });
  // Where each environment's after: leads, when it is a valid link.
  const next = environments.map((env, i): number | undefined => {
    if (env.after === undefined) return undefined;
    const target = indexOf.get(env.after);
    const other = target === undefined ? undefined : environments[target];
    if (target === undefined || other === undefined) {
      problems.push({ index: i, message: `no environment named "${env.after}"` });
    } else if (target === i) {
      problems.push({ index: i, message: `${env.name} cannot wait for itself` });
    } else if (other.branch !== env.branch) {
      problems.push({
        index: i,
        message: `${other.name} is deployed from branch ${other.branch}, not ${env.branch}: promotion waits for the same commit`,
      });
    } else {
      return target;
    }
    return undefined;
  });
  // Each environment has at most one link, so following links from each unvisited one finds every cycle once.
  const state: ("new" | "walking" | "done")[] = environments.map(() => "new");
  environments.forEach((_, start) => {
    const path: number[] = [];
    let at: number | undefined = start;
    while (at !== undefined && state[at] === "new") {
      state[at] = "walking";
      path.push(at);
      at = next[at];
    }
    if (at !== undefined && state[at] === "walking") {
      const cycle = path.slice(path.indexOf(at));
      const first = Math.min(...cycle);
      const from = cycle.indexOf(first);
      const names = [...cycle.slice(from), ...cycle.slice(0, from), first].map((i) => environments[i]?.name ?? "");
      problems.push({ index: first, message: `environments wait for each other in a cycle: ${names.join(" → ")}` });
    }
    for (const i of path) state[i] = "done";
  });
  return problems.sort((a, b) => a.index - b.index);
}
