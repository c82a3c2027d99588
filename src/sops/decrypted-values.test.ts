import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decryptedValues } from "./decrypted-values.js";

const enc = (n: number) => `ENC[AES256_GCM,data:x${n},iv:y,tag:z,type:str]`;

describe("decryptedValues", () => {
  it("takes the YAML leaves that were encrypted, not the clear ones nor sops' metadata", () => {
    const encrypted = `name: db\npassword: ${enc(1)}\nlist:\n  - ${enc(2)}\n  - clear\nsops:\n  mac: ${enc(3)}\n`;
    const decrypted = "name: db\npassword: hunter22\nlist: [tok-en, clear]\n";
    assert.deepEqual(decryptedValues(encrypted, decrypted, "yaml"), ["hunter22", "tok-en"]);
  });

  it("takes a dotenv file's encrypted values", () => {
    const encrypted = `A=${enc(1)}\nB_unencrypted=plain\nsops_mac=${enc(2)}\n`;
    assert.deepEqual(decryptedValues(encrypted, "A=value-a\nB_unencrypted=plain\n", "dotenv"), ["value-a"]);
  });
});
