import { chmod, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

/** Writes `files` (path relative to `root` → content) under `root`, creating directories; returns `root`. */
export async function writeTree(root: string, files: Record<string, string>): Promise<string> {
  await mkdir(root, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), content);
  }
  return root;
}

/** Writes an executable shell script at `file` running `body`; returns `file`. */
export async function writeScript(file: string, body: string): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `#!/bin/sh\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}
