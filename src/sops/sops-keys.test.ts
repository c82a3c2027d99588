import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { parseServerConfig } from "../config/server-config.js";
import { FerryError } from "../errors.js";
import { grantedKeys, readAgeIdentities } from "./sops-keys.js";

const IDENTITY = "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ";

const config = parseServerConfig(
  [
    "sops:",
    "  keys:",
    "    - repositories: [acme/*]",
    "      age: {file: /etc/ferry/age/acme.txt}",
    "    - repositories: [acme/shop]",
    "      environments: [prod*]",
    "      age: {env: SHOP_PROD_AGE_KEY}",
    "",
  ].join("\n"),
  "ferry.yaml",
).sops;

describe("sops keys", () => {
  it("grants a key to the repositories it names, and to the environments it names", () => {
    assert.deepEqual(
      grantedKeys(config, "acme/shop", "staging").map((k) => k.age),
      [{ file: "/etc/ferry/age/acme.txt" }],
    );
    assert.equal(grantedKeys(config, "acme/shop", "production").length, 2);
    assert.equal(grantedKeys(config, "acme/web", "production").length, 1);
    assert.deepEqual(grantedKeys(config, "evil/shop", "production"), []);
  });

  it("refuses a grant without a key source, with both, or with keys inline", () => {
    for (const age of ["{}", "{file: a, env: B}", `{key: ${IDENTITY}}`, "{env: 'not a name'}"]) {
      assert.throws(
        () => parseServerConfig(`sops:\n  keys:\n    - repositories: [a/b]\n      age: ${age}\n`, "ferry.yaml"),
        (error: unknown) => error instanceof FerryError && /ferry\.yaml:4:\d+: sops\.keys\.0\.age/.test(error.message),
        age,
      );
    }
  });

  it("reads identities from files and variables, never saying what they hold", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "ferry-age-"));
    try {
      const file = path.join(dir, "keys.txt");
      await writeFile(file, `# created: today\n# public key: age1abc\n${IDENTITY}\n`);
      const keys = [
        { repositories: ["*"], age: { file } },
        { repositories: ["*"], age: { env: "K" } },
      ];
      assert.equal(
        await readAgeIdentities(keys, { K: IDENTITY.replace("QQ", "PP") }),
        `${IDENTITY}\n${IDENTITY.replace("QQ", "PP")}`,
      );
      await assert.rejects(readAgeIdentities([{ repositories: ["*"], age: { env: "K" } }], { K: "not a key" }), {
        message: "sops: the age key environment variable K holds no age identity (AGE-SECRET-KEY-1…)",
      });
      await assert.rejects(readAgeIdentities([{ repositories: ["*"], age: { file: path.join(dir, "none") } }], {}), {
        message: `sops: cannot read the age key file ${path.join(dir, "none")} (ENOENT)`,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
