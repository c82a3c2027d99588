import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { writeTree } from "../../test/support/file-tree.js";
import { findSopsFiles } from "./find-sops-files.js";

const MAC = "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]";

describe("findSopsFiles", () => {
  it("finds YAML, JSON and dotenv files with sops' metadata and names their key backends", async () => {
    const root = await mkdtemp(path.join(tmpdir(), "ferry-find-sops-"));
    try {
      await writeTree(root, {
        "a/secret.yaml": `kind: Secret\nsops:\n  age:\n    - recipient: age1x\n  mac: ${MAC}\n`,
        "a/kms.json": JSON.stringify({ v: "ENC[…]", sops: { kms: [{ arn: "arn" }], pgp: [], mac: MAC } }),
        "b/db.env": `A=ENC[…]\nsops_age__list_0__map_recipient=age1x\nsops_mac=${MAC}\n`,
        "b/plain.yaml": "kind: ConfigMap\ndata:\n  sops: mentioned\n",
        "b/no-mac.yaml": "sops:\n  age: []\n",
        "b/notes.txt": `sops:\n  mac: ${MAC}\n`,
        ".git/x.yaml": `sops:\n  mac: ${MAC}\n`,
      });
      assert.deepEqual(await findSopsFiles(root), [
        { path: "a/kms.json", format: "json", backends: ["kms"] },
        { path: "a/secret.yaml", format: "yaml", backends: ["age"] },
        { path: "b/db.env", format: "dotenv", backends: ["age"] },
      ]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
