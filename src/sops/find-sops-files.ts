import { lstat, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { parseAllDocuments } from "yaml";

/** The formats of SOPS files Ferry decrypts: sops' own store names, given to it as `--input-type`. */
export type SopsFormat = "yaml" | "json" | "dotenv";

/** A file of the repository that carries SOPS metadata. */
export interface SopsFile {
  /** Its path relative to the repository root, with `/` separators. */
  path: string;
  format: SopsFormat;
  /** The key backends its metadata lists (`age`, `pgp`, `kms`, `gcp_kms`, `azure_kv`, `hc_vault`…). */
  backends: string[];
}

/** Larger files are not read: no SOPS file of manifests or values is this big. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;

/** The file names a SOPS file of a supported format may have. */
function formatOf(name: string): SopsFormat | undefined {
  const ext = path.extname(name).toLowerCase();
  if (ext === ".yaml" || ext === ".yml") return "yaml";
  if (ext === ".json") return "json";
  if (ext === ".env" || name === ".env") return "dotenv";
  return undefined;
}

/**
 * Every SOPS-encrypted file under `root` (`.yaml`, `.yml`, `.json` and `.env` files whose top level
 * holds sops' metadata: a `sops` map with a `mac`, or `sops_mac=` in a dotenv file), sorted by path.
 * Links are not followed.
 */
export async function findSopsFiles(root: string): Promise<SopsFile[]> {
  const found: SopsFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== ".git") await walk(full);
        continue;
      }
      const format = entry.isFile() ? formatOf(entry.name) : undefined;
      if (format === undefined) continue;
      const info = await lstat(full);
      if (info.size > MAX_FILE_BYTES) continue;
      const text = await readFile(full, "utf8");
      if (!text.includes("sops")) continue;
      const backends = sopsBackends(text, format);
      if (backends !== undefined)
        found.push({ path: path.relative(root, full).split(path.sep).join("/"), format, backends });
    }
  };
  await walk(root);
  return found.sort((a, b) => a.path.localeCompare(b.path));
}

/** The backends a SOPS file's metadata lists, or undefined when `text` is not a SOPS file. */
export function sopsBackends(text: string, format: SopsFormat): string[] | undefined {
  if (format === "dotenv") {
    const lines = text.split("\n");
    if (!lines.some((line) => line.startsWith("sops_mac="))) return undefined;
    const names = lines
      .map((line) => /^sops_([a-z_]+?)__list_\d+__map_/.exec(line)?.[1])
      .filter((n) => n !== undefined);
    return [...new Set(names)].sort();
  }
  let metadata: unknown;
  try {
    const docs = parseAllDocuments(text);
    if (!Array.isArray(docs)) return undefined;
    metadata = docs
      .map((doc) => doc.toJS() as unknown)
      .map((doc) => (isMap(doc) ? doc.sops : undefined))
      .find((sops) => isMap(sops) && "mac" in sops);
  } catch {
    return undefined;
  }
  if (!isMap(metadata)) return undefined;
  const backends = new Set<string>();
  const collect = (map: Record<string, unknown>) => {
    for (const [name, value] of Object.entries(map))
      if (Array.isArray(value) && value.length > 0 && name !== "key_groups") backends.add(name);
  };
  collect(metadata);
  if (Array.isArray(metadata.key_groups)) for (const group of metadata.key_groups) if (isMap(group)) collect(group);
  return [...backends].sort();
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
