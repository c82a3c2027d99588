import { readFile } from "node:fs/promises";
import { z } from "zod";
import { permanent } from "../errors.js";
import { globMatch } from "../policy/policy.js";

/** Where an age identity (`AGE-SECRET-KEY-1…` lines, as age-keygen writes them) is read from: a file or an environment variable. */
const ageSourceSchema = z.union([
  z.strictObject({
    /** A file holding one or more age identities, typically a mounted Secret's key. */
    file: z.string().min(1),
  }),
  z.strictObject({
    /** The name of an environment variable holding one or more age identities. */
    env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable's name"),
  }),
]);

/** One grant of age identities to repositories (globs), and optionally only to some of their environments. */
export const sopsKeySchema = z.strictObject({
  /** Repository full names; `*` matches any run of characters (`acme/*`). */
  repositories: z.array(z.string().min(1)).min(1),
  /** Environment names (globs) the key is granted to; every environment when omitted. */
  environments: z.array(z.string().min(1)).min(1).optional(),
  /** The age identities. */
  age: ageSourceSchema,
});

/** The server config's `sops:` section: which keys decrypt which repositories' SOPS files. */
export const sopsConfigSchema = z.strictObject({ keys: z.array(sopsKeySchema).default([]) }).default({ keys: [] });

/** One key grant. */
export type SopsKey = z.output<typeof sopsKeySchema>;

/** The `sops:` section, validated. */
export type SopsConfig = z.output<typeof sopsConfigSchema>;

/** The grants that cover `environment` of `repository`: only these keys may decrypt its files. */
export function grantedKeys(config: SopsConfig, repository: string, environment: string): SopsKey[] {
  return config.keys.filter(
    (key) =>
      key.repositories.some((pattern) => globMatch(pattern, repository)) &&
      (key.environments === undefined || key.environments.some((pattern) => globMatch(pattern, environment))),
  );
}

/** An age identity line; comments and blank lines of a key file are left out. */
const IDENTITY = /^AGE-SECRET-KEY-1[0-9A-Z]+$/;

/**
 * The age identities of `keys`, one a line, as sops reads `SOPS_AGE_KEY`; read afresh each time so
 * a rotated Secret is picked up without a restart. A file or variable that cannot be read, or holds
 * no identity, is a permanent error naming where it was looked for, never what it holds.
 */
export async function readAgeIdentities(keys: SopsKey[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const identities: string[] = [];
  for (const key of keys) {
    const where = "file" in key.age ? `file ${key.age.file}` : `environment variable ${key.age.env}`;
    let text: string | undefined;
    if ("file" in key.age) {
      text = await readFile(key.age.file, "utf8").catch((error: NodeJS.ErrnoException) => {
        throw permanent(`sops: cannot read the age key ${where} (${error.code ?? "unreadable"})`);
      });
    } else text = env[key.age.env];
    const found = (text ?? "")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => IDENTITY.test(line));
    if (found.length === 0) throw permanent(`sops: the age key ${where} holds no age identity (AGE-SECRET-KEY-1…)`);
    identities.push(...found);
  }
  return identities.join("\n");
}
