import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pLimit from "p-limit";
import { FerryError, permanent } from "../errors.js";
import { runTool } from "../render/run-tool.js";
import { decryptedValues } from "./decrypted-values.js";
import type { DecryptionCache } from "./decryption-cache.js";
import { findSopsFiles, type SopsFile } from "./find-sops-files.js";
import { grantedKeys, readAgeIdentities, type SopsConfig } from "./sops-keys.js";

/** What {@link decryptTree} decrypts, for whom, and with what. */
export interface DecryptInput {
  /** The extracted repository; never written to (other environments of the job render it too). */
  root: string;
  /** The environment's directory, relative to `root`: a SOPS file under it must decrypt. */
  envPath: string;
  repository: string;
  environment: string;
  /** True for a pull request from a fork: nothing is decrypted. */
  fork: boolean;
  /** The server config's key grants. */
  config: SopsConfig;
  /** The environment `age: { env }` keys are read from. */
  env: NodeJS.ProcessEnv;
  /** The `sops` binary: a path, or a name looked up on PATH. */
  command: string;
  /** Longest one file's decryption may take. */
  timeoutMs: number;
  /** How many files are decrypted at once. */
  concurrency: number;
  /** Decryptions made before, reused when the ciphertext and the identities are the same. */
  cache: DecryptionCache;
}

/** An environment's private copy of the repository with its SOPS files decrypted. */
export interface DecryptedTree {
  /** The directory to render from: `root` itself when the repository has no SOPS file. */
  root: string;
  /** The plaintext of every encrypted value decrypted. */
  values: string[];
  /** The SOPS files left encrypted, by path, with why. */
  undecrypted: Map<string, string>;
  /** Removes the private copy. */
  dispose(): Promise<void>;
}

/** Why a fork's files stay encrypted. */
export const FORK_REASON = "the pull request comes from a fork, and Ferry never decrypts files for a fork";

/**
 * Decrypts the repository's SOPS files for one environment into a private copy of its tree, with
 * only the age keys the server config grants to that repository and environment (given to sops in
 * its environment, nowhere else). A SOPS file under the environment's directory that cannot be
 * decrypted (no granted key, a backend other than age, a MAC mismatch, tampered ciphertext) is a
 * permanent error naming the file and the reason in sops' words; one elsewhere (another
 * environment's, perhaps, for a key this one is not granted) is left encrypted, and fails the render
 * only if its ciphertext reaches it. A fork's files are never decrypted.
 */
export async function decryptTree(input: DecryptInput): Promise<DecryptedTree> {
  const files = await findSopsFiles(input.root);
  const unchanged = (undecrypted: Map<string, string>): DecryptedTree => ({
    root: input.root,
    values: [],
    undecrypted,
    dispose: () => Promise.resolve(),
  });
  if (files.length === 0) return unchanged(new Map());
  if (input.fork) return unchanged(new Map(files.map((f) => [f.path, FORK_REASON])));
  const keys = grantedKeys(input.config, input.repository, input.environment);
  const identities = keys.length === 0 ? "" : await readAgeIdentities(keys, input.env);

  const dir = await mkdtemp(path.join(tmpdir(), "ferry-sops-"));
  const dispose = () => rm(dir, { recursive: true, force: true });
  try {
    const root = path.join(dir, "tree");
    await cp(input.root, root, { recursive: true, verbatimSymlinks: true });
    const limit = pLimit(input.concurrency);
    const outcomes = await Promise.all(
      files.map((file) => limit(() => decryptFile(input, root, file, identities).catch(reasonOf))),
    );
    const values: string[] = [];
    const undecrypted = new Map<string, string>();
    const failures: string[] = [];
    files.forEach((file, i) => {
      const outcome = outcomes[i];
      if (Array.isArray(outcome)) return values.push(...outcome);
      undecrypted.set(file.path, outcome ?? "");
      if (isUnder(file.path, input.envPath)) failures.push(`cannot decrypt ${file.path}: ${outcome}`);
    });
    if (failures.length > 0) throw permanent(failures.join("\n"));
    return { root, values, undecrypted, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** Decrypts one file in place in the private tree; its decrypted values, or why it stays encrypted. */
async function decryptFile(
  input: DecryptInput,
  root: string,
  file: SopsFile,
  identities: string,
): Promise<string[] | string> {
  if (!file.backends.includes("age"))
    return (
      `it is encrypted with ${file.backends.join(", ") || "no key"}, not age: Ferry decrypts with age keys only ` +
      "(cloud KMS, PGP and Vault are out of its reach: it decrypts without network)"
    );
  if (identities === "")
    return (
      `no age key is granted to ${input.repository} environment ${input.environment} ` +
      "(the server config's sops.keys; `ferry plan --dir` reads SOPS_AGE_KEY or SOPS_AGE_KEY_FILE)"
    );
  const full = path.join(root, ...file.path.split("/"));
  const encrypted = await readFile(full, "utf8");
  const format = ["--input-type", file.format, "--output-type", file.format];
  const decrypted = await input.cache.get(file.format, encrypted, identities, async () => {
    const text = await runTool({
      label: `sops decrypt ${file.path}`,
      command: input.command,
      args: ["decrypt", ...format, full],
      cwd: "/",
      timeoutMs: input.timeoutMs,
      maxOutputBytes: Math.max(encrypted.length, 1024 * 1024),
      env: { SOPS_AGE_KEY: identities },
    });
    return { text, values: decryptedValues(encrypted, text, file.format) };
  });
  await writeFile(full, decrypted.text);
  return decrypted.values;
}

/** A failed decryption's reason in sops' words, without the `sops decrypt <file> failed: ` prefix. */
function reasonOf(error: unknown): string {
  if (!(error instanceof FerryError)) throw error;
  return error.message.replace(/^sops decrypt .*? failed: /, "");
}

/** Whether repository path `file` is inside directory `dir` (`.` is the whole repository). */
function isUnder(file: string, dir: string): boolean {
  const relative = path.posix.relative(path.posix.normalize(dir), file);
  return !relative.startsWith("..") && !path.posix.isAbsolute(relative);
}
