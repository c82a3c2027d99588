import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { ferryError } from "../../test/support/ferry-error.js";
import { writeScript, writeTree } from "../../test/support/file-tree.js";
import { ageKey, SOPS, sopsEncrypt, tamper, type AgeKey } from "../../test/support/sops.js";
import { createRenderer } from "../render/select-renderer.js";
import type { RenderTarget } from "../render/types.js";
import type { SopsConfig } from "./sops-keys.js";

/** The message of the permanent FerryError `promise` rejects with. */
async function failure(promise: Promise<unknown>): Promise<string> {
  const error = await ferryError(promise);
  assert.equal(error.kind, "permanent", error.message);
  return error.message;
}

const PASSWORD = "correct-horse-battery-staple";
const SECRET = [
  "apiVersion: v1",
  "kind: Secret",
  "metadata:",
  "  name: db",
  "stringData:",
  `  password: ${PASSWORD}`,
  "",
].join("\n");
const SECRET_ONLY = "^(data|stringData)$";

describe("DecryptingRenderer", () => {
  let work: string;
  let count = 0;
  let acme: AgeKey;
  let other: AgeKey;
  const repo = (files: Record<string, string>) => writeTree(path.join(work, `repo-${++count}`), files);
  const target = (p: string, extra: Partial<RenderTarget> = {}): RenderTarget => ({
    name: "staging",
    path: p,
    namespace: "shop",
    ...extra,
  });
  const rendererFor = (config: SopsConfig) =>
    createRenderer({
      kustomize: process.env.FERRY_KUSTOMIZE ?? "kustomize",
      helm: process.env.FERRY_HELM ?? "helm",
      sops: { command: SOPS, config },
    });
  const granted = (identity: string, repositories = ["acme/*"], environments?: string[]) => {
    process.env.FERRY_TEST_AGE_KEY = identity;
    return rendererFor({
      keys: [{ repositories, ...(environments ? { environments } : {}), age: { env: "FERRY_TEST_AGE_KEY" } }],
    });
  };
  const source = { repository: "acme/shop" };

  before(async () => {
    work = await mkdtemp(path.join(tmpdir(), "ferry-sops-"));
    [acme, other] = await Promise.all([ageKey(), ageKey()]);
  });
  after(async () => {
    delete process.env.FERRY_TEST_AGE_KEY;
    await rm(work, { recursive: true, force: true });
  });

  it("renders an encrypted Secret decrypted, marks it, and leaves the checkout encrypted", async () => {
    const encrypted = await sopsEncrypt(SECRET, [acme.recipient], { encryptedRegex: SECRET_ONLY });
    assert.ok(!encrypted.includes(PASSWORD));
    const root = await repo({ "deploy/secret.yaml": encrypted });
    const rendered = await granted(acme.identity).render(root, target("deploy"), source);
    assert.equal(rendered.length, 1);
    const [secret] = rendered;
    assert.deepEqual(secret?.object.stringData, { password: PASSWORD });
    assert.equal("sops" in (secret?.object ?? {}), false);
    assert.deepEqual(secret?.secrets, [PASSWORD]);
    assert.equal(await readFile(path.join(root, "deploy/secret.yaml"), "utf8"), encrypted);
  });

  it("feeds a Kustomize secretGenerator from an encrypted .env file, base64 form marked", async () => {
    const env = await sopsEncrypt(`PASSWORD=${PASSWORD}\nUSER=shop\n`, [acme.recipient], { format: "dotenv" });
    const root = await repo({
      "deploy/kustomization.yaml": [
        "secretGenerator:",
        "  - name: db",
        "    envs: [db.env]",
        "generatorOptions:",
        "  disableNameSuffixHash: true",
        "",
      ].join("\n"),
      "deploy/db.env": env,
    });
    const rendered = await granted(acme.identity).render(root, target("deploy"), source);
    const data = rendered[0]?.object.data as Record<string, string>;
    assert.deepEqual(Object.keys(data).sort(), ["PASSWORD", "USER"]);
    assert.equal(Buffer.from(data.PASSWORD ?? "", "base64").toString(), PASSWORD);
    assert.ok(rendered[0]?.secrets?.includes(Buffer.from(PASSWORD).toString("base64")));
  });

  it("renders a Helm chart with an encrypted values file", async () => {
    const values = await sopsEncrypt(`db:\n  password: ${PASSWORD}\n`, [acme.recipient]);
    const root = await repo({
      "chart/Chart.yaml": "apiVersion: v2\nname: shop\nversion: 0.1.0\n",
      "chart/values.yaml": "db:\n  password: none\n",
      "chart/secrets.yaml": values,
      "chart/templates/secret.yaml": [
        "apiVersion: v1",
        "kind: Secret",
        "metadata:",
        "  name: db",
        "data:",
        "  password: {{ .Values.db.password | b64enc }}",
        "",
      ].join("\n"),
    });
    const rendered = await granted(acme.identity).render(
      root,
      target("chart", { helm: { valuesFiles: ["secrets.yaml"] } }),
      source,
    );
    const data = rendered[0]?.object.data as Record<string, string>;
    assert.equal(Buffer.from(data.password ?? "", "base64").toString(), PASSWORD);
  });

  it("fails naming the file when no key is granted to the repository, or to the environment", async () => {
    const root = await repo({ "deploy/secret.yaml": await sopsEncrypt(SECRET, [acme.recipient]) });
    const notRepo = await failure(granted(acme.identity, ["other/*"]).render(root, target("deploy"), source));
    assert.match(
      notRepo,
      /^cannot decrypt deploy\/secret\.yaml: no age key is granted to acme\/shop environment staging \(the server config's sops\.keys/,
    );
    const notEnv = await failure(
      granted(acme.identity, ["acme/*"], ["production"]).render(root, target("deploy"), source),
    );
    assert.match(notEnv, /cannot decrypt deploy\/secret\.yaml: no age key/);
  });

  it("fails naming the file, in sops' words, with the wrong key, tampered ciphertext or a changed clear value", async () => {
    const encrypted = await sopsEncrypt(SECRET, [acme.recipient], { encryptedRegex: SECRET_ONLY });
    const wrong = await failure(
      granted(other.identity).render(await repo({ "deploy/secret.yaml": encrypted }), target("deploy"), source),
    );
    assert.match(wrong, /^cannot decrypt deploy\/secret\.yaml: .*(data key|no identity matched)/is);
    const tampered = await failure(
      granted(acme.identity).render(await repo({ "deploy/secret.yaml": tamper(encrypted) }), target("deploy"), source),
    );
    assert.match(tampered, /^cannot decrypt deploy\/secret\.yaml: .*(authentication failed|decrypt)/is);
    const renamed = encrypted.replace("name: db", "name: dbx");
    const mac = await failure(
      granted(acme.identity).render(await repo({ "deploy/secret.yaml": renamed }), target("deploy"), source),
    );
    assert.match(mac, /^cannot decrypt deploy\/secret\.yaml: .*MAC mismatch/is);
    for (const message of [wrong, tampered, mac]) {
      assert.ok(!message.includes(PASSWORD));
      assert.ok(!message.includes(acme.identity) && !message.includes(other.identity));
    }
  });

  it("says a file needing a cloud KMS or PGP is out of reach", async () => {
    const encrypted = await sopsEncrypt(SECRET, [acme.recipient]);
    const kmsOnly = encrypted.replace(
      / {4}age:\n(?: {8}.*\n)+/,
      "    kms:\n        - arn: arn:aws:kms:eu-west-1:1:key/x\n",
    );
    assert.notEqual(kmsOnly, encrypted);
    const message = await failure(
      granted(acme.identity).render(await repo({ "deploy/secret.yaml": kmsOnly }), target("deploy"), source),
    );
    assert.match(message, /deploy\/secret\.yaml: it is encrypted with kms, not age: Ferry decrypts with age keys only/);
  });

  it("leaves another environment's file it has no key for encrypted, and fails only if its ciphertext is rendered", async () => {
    const production = await sopsEncrypt(SECRET, [other.recipient], { encryptedRegex: SECRET_ONLY });
    const root = await repo({
      "deploy/staging/app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  a: b\n",
      "deploy/production/secret.yaml": production,
      "deploy/staging-with-base/kustomization.yaml": "resources: [../production]\n",
      "deploy/production/kustomization.yaml": "resources: [secret.yaml]\n",
    });
    const renderer = granted(acme.identity);
    const rendered = await renderer.render(root, target("deploy/staging", { render: "plain" }), source);
    assert.deepEqual(
      rendered.map((r) => r.object.metadata.name),
      ["app"],
    );
    const message = await failure(renderer.render(root, target("deploy/staging-with-base"), source));
    assert.match(
      message,
      /SOPS-encrypted values reached the render \(kustomize build deploy\/staging-with-base[^)]*\).*deploy\/production\/secret\.yaml not decrypted: .*identity did not match any of the recipients/s,
    );
  });

  it("never decrypts for a fork, and says which files it skipped and why", async () => {
    const root = await repo({ "deploy/secret.yaml": await sopsEncrypt(SECRET, [acme.recipient]) });
    const message = await failure(
      granted(acme.identity).render(root, target("deploy"), { repository: "acme/shop", fork: true }),
    );
    assert.match(message, /^not planned: SOPS-encrypted values reached the render/);
    assert.match(message, /deploy\/secret\.yaml not decrypted: the pull request comes from a fork/);
  });

  it("runs sops once per file for the renders of one environment, and again for other keys", async () => {
    const runs = path.join(work, "sops-runs.log");
    const real = execFileSync("sh", ["-c", `command -v ${SOPS}`], { encoding: "utf8" }).trim();
    const counting = await writeScript(path.join(work, "bin", "sops"), `echo run >> ${runs}\nexec ${real} "$@"`);
    const root = await repo({ "deploy/secret.yaml": await sopsEncrypt(SECRET, [acme.recipient, other.recipient]) });
    const count = async () => (await readFile(runs, "utf8").catch(() => "")).split("\n").filter(Boolean).length;
    process.env.FERRY_TEST_AGE_KEY = acme.identity;
    process.env.FERRY_TEST_OTHER_KEY = other.identity;
    const renderer = createRenderer({
      kustomize: "kustomize",
      helm: "helm",
      sops: {
        command: counting,
        config: {
          keys: [
            { repositories: ["acme/*"], environments: ["staging"], age: { env: "FERRY_TEST_AGE_KEY" } },
            { repositories: ["acme/*"], environments: ["production"], age: { env: "FERRY_TEST_OTHER_KEY" } },
          ],
        },
      },
    });
    const renders = await Promise.all([1, 2, 3].map(() => renderer.render(root, target("deploy"), source)));
    assert.equal(await count(), 1, "three renders of staging, one sops run");
    for (const rendered of renders) assert.deepEqual(rendered[0]?.object.stringData, { password: PASSWORD });
    await renderer.render(root, target("deploy", { name: "production" }), source);
    assert.equal(await count(), 2, "production is granted another key: decrypted with it");
    delete process.env.FERRY_TEST_OTHER_KEY;
  });

  it("scrubs decrypted values from the renderer's own errors", async () => {
    const broken = await sopsEncrypt(`PASSWORD=${PASSWORD}\n`, [acme.recipient], { format: "dotenv" });
    const root = await repo({
      "deploy/kustomization.yaml": `secretGenerator:\n  - name: db\n    envs: [db.env]\nresources: [missing-${PASSWORD}.yaml]\n`,
      "deploy/db.env": broken,
    });
    const message = await failure(granted(acme.identity).render(root, target("deploy"), source));
    assert.ok(!message.includes(PASSWORD), message);
    assert.match(message, /missing-\(hidden\)\.yaml/);
  });
});
