import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** The `sops` binary the tests encrypt with (scripts/renderers builds it; scripts/test puts it on PATH). */
export const SOPS = process.env.FERRY_SOPS ?? "sops";

/** An age key pair made by the real age-keygen. */
export interface AgeKey {
  /** `AGE-SECRET-KEY-1…`: what Ferry is given. */
  identity: string;
  /** `age1…`: what files are encrypted for. */
  recipient: string;
}

/** A new age key pair, from `age-keygen` (built beside sops from the age module sops uses). */
export async function ageKey(): Promise<AgeKey> {
  const { stdout } = await execFileAsync("age-keygen", []);
  const identity = /^AGE-SECRET-KEY-1[0-9A-Z]+$/m.exec(stdout)?.[0];
  const recipient = /^# public key: (age1[0-9a-z]+)$/m.exec(stdout)?.[1];
  if (identity === undefined || recipient === undefined) throw new Error(`age-keygen wrote no key: ${stdout}`);
  return { identity, recipient };
}

/** How {@link sopsEncrypt} encrypts: the file's format and, for YAML and JSON, which keys' values. */
export interface EncryptOptions {
  format?: "yaml" | "json" | "dotenv";
  /** sops' `--encrypted-regex`, e.g. `^(data|stringData)$` for a Secret. */
  encryptedRegex?: string;
}

/** `plaintext` encrypted by the real sops for every recipient, as `sops encrypt --age r1,r2` writes it. */
export async function sopsEncrypt(
  plaintext: string,
  recipients: string[],
  options: EncryptOptions = {},
): Promise<string> {
  const format = options.format ?? "yaml";
  const dir = await mkdtemp(path.join(tmpdir(), "ferry-sops-test-"));
  try {
    const file = path.join(dir, `plain.${format === "dotenv" ? "env" : format}`);
    await writeFile(file, plaintext);
    const args = ["encrypt", "--age", recipients.join(","), "--input-type", format, "--output-type", format];
    if (options.encryptedRegex !== undefined) args.push("--encrypted-regex", options.encryptedRegex);
    const { stdout } = await execFileAsync(SOPS, [...args, file], { cwd: dir });
    return stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The ciphertext of the first encrypted value changed by one character: what tampering with a file looks like. */
export function tamper(encrypted: string): string {
  return encrypted.replace(
    /ENC\[AES256_GCM,data:(.)/,
    (_match, first: string) => `ENC[AES256_GCM,data:${first === "A" ? "B" : "A"}`,
  );
}
