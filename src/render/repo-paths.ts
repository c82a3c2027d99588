import { realpath, stat } from "node:fs/promises";
import path from "node:path";
import { permanent } from "../errors.js";

/**
 * Resolves the environment's path inside the repository (`realRoot`, already a real path) and returns
 * it, refusing anything that leaves it, even through a symlink, and anything that is not a directory.
 */
export async function resolveEnvironmentPath(realRoot: string, envPath: string): Promise<string> {
  if (path.isAbsolute(envPath)) throw permanent(`environment path ${envPath} must be relative to the repository root`);
  if (envPath.split(/[/\\]/).includes("..")) throw permanent(`environment path ${envPath} must not contain ..`);
  const logical = path.resolve(realRoot, envPath);
  const real = await realpath(logical).catch((error: unknown) => {
    throw permanent(`environment path ${envPath} does not exist in the repository`, { cause: error });
  });
  if (!isInside(realRoot, real))
    throw permanent(`environment path ${envPath} leads outside the repository through a symlink`);
  if (!(await stat(real)).isDirectory()) throw permanent(`environment path ${envPath} is not a directory`);
  return logical;
}

/** True when `file` is `dir` or below it. */
export function isInside(dir: string, file: string): boolean {
  const relative = path.relative(dir, file);
  return relative !== ".." && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}
