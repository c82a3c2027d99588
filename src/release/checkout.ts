import { lstat, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { extractArchive } from "../archive/extract-archive.js";
import { FERRY_CONFIG_FILE, parseFerryConfig, type FerryConfig } from "../config/ferry-config.js";
import { permanent } from "../errors.js";
import type { Forge } from "../forge/types.js";

/** A repository's files at one commit, extracted to a private temp dir. */
export interface Checkout {
  sha: string;
  /** Directory holding the repository's files. */
  root: string;
  /** The commit's validated `.ferry.yml`; a permanent error when it is missing or invalid. */
  config(): Promise<FerryConfig>;
  /**
   * A file of the commit by its repository path, as text; undefined when it is not a regular file
   * inside the tree (or is over 1 MiB): for pointing at a line of a manifest the server refused.
   */
  source(path: string): Promise<string | undefined>;
}

/** The largest file `Checkout.source` reads. */
const MAX_SOURCE_BYTES = 1024 * 1024;

/**
 * Downloads and extracts commits on demand, each once, for the life of one job; `dispose` removes
 * them all. Extraction refuses links out of the tree, `..` entries and archives over the size caps.
 */
export class Checkouts {
  private readonly byCommit = new Map<string, Promise<Checkout>>();
  private readonly dirs: string[] = [];

  /** Binds the checkouts to the forge they download from. */
  constructor(private readonly forge: Forge) {}

  /** The checkout of `sha`. */
  get(sha: string): Promise<Checkout> {
    let checkout = this.byCommit.get(sha);
    if (!checkout) {
      checkout = this.fetch(sha);
      this.byCommit.set(sha, checkout);
      checkout.catch(() => this.byCommit.delete(sha));
    }
    return checkout;
  }

  /** Removes every extracted tree. */
  async dispose(): Promise<void> {
    await Promise.all(this.dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  }

  private async fetch(sha: string): Promise<Checkout> {
    const dir = await mkdtemp(join(tmpdir(), "ferry-checkout-"));
    this.dirs.push(dir);
    const { root } = await extractArchive(await this.forge.downloadArchive(sha), join(dir, "tree"));
    let config: Promise<FerryConfig> | undefined;
    return {
      sha,
      root,
      config: () => (config ??= readConfig(root)),
      source: (path) => readSource(root, path),
    };
  }
}

async function readSource(root: string, path: string): Promise<string | undefined> {
  const file = resolve(root, path);
  const inside = relative(root, file);
  if (inside === "" || inside.startsWith("..") || resolve(root, inside) !== file) return undefined;
  const info = await lstat(file).catch(() => undefined);
  if (!info?.isFile() || info.size > MAX_SOURCE_BYTES) return undefined;
  return readFile(file, "utf8");
}

async function readConfig(root: string): Promise<FerryConfig> {
  let text: string;
  try {
    text = await readFile(join(root, FERRY_CONFIG_FILE), "utf8");
  } catch {
    throw permanent(`${FERRY_CONFIG_FILE} is missing at the repository's root`);
  }
  return parseFerryConfig(text);
}
