import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { stringify } from "yaml";
import { configMapYaml, FerryHarness, FORGES, TEST_CLUSTER, type TestRepo } from "./support/ferry-harness.js";
import { testKubeConfigPath } from "./support/kube.js";
import { JobCounter } from "./support/job-counter.js";
import { ageKey, sopsEncrypt, tamper, type AgeKey } from "./support/sops.js";

/** Only a Secret's values are encrypted, as teams usually encrypt manifests. */
const SECRET_ONLY = "^(data|stringData)$";

/** A Secret manifest holding `password`. */
function secretYaml(name: string, password: string): string {
  return stringify({ apiVersion: "v1", kind: "Secret", metadata: { name }, stringData: { password } });
}

/** A chart whose values file `secrets.yaml` (encrypted in the tests) gives `db.password`; `templates` adds templates. */
function chart(values: string, templates: Record<string, string> = {}): Record<string, string> {
  return {
    "deploy/helm/Chart.yaml": "apiVersion: v2\nname: shop\nversion: 0.1.0\n",
    "deploy/helm/values.yaml": "db:\n  password: unset\n",
    "deploy/helm/secrets.yaml": values,
    "deploy/helm/templates/secret.yaml": [
      "apiVersion: v1",
      "kind: Secret",
      "metadata:",
      "  name: db-helm",
      "data:",
      "  password: {{ .Values.db.password | b64enc }}",
      "",
    ].join("\n"),
    ...templates,
  };
}

/** Templates that copy the decrypted password into a ConfigMap, an annotation (base64) and a container argument. */
const SMUGGLING = {
  "deploy/helm/templates/leak.yaml": [
    "apiVersion: v1",
    "kind: ConfigMap",
    "metadata:",
    "  name: leak",
    "  annotations:",
    "    copy: {{ .Values.db.password | b64enc | quote }}",
    "data:",
    "  copy: {{ .Values.db.password | quote }}",
    "---",
    "apiVersion: apps/v1",
    "kind: Deployment",
    "metadata:",
    "  name: leak",
    "spec:",
    "  replicas: 0",
    "  selector: {matchLabels: {app: leak}}",
    "  template:",
    "    metadata: {labels: {app: leak}}",
    "    spec:",
    "      containers:",
    "        - name: leak",
    "          image: nginx",
    '          args: ["--password={{ .Values.db.password }}"]',
    "",
  ].join("\n"),
};

/**
 * A template labelling a ConfigMap with the decrypted password: a password with '+' (no label
 * character) makes the API server refuse it, quoting the value in its error.
 */
const LABELLED = {
  "deploy/helm/templates/labelled.yaml": [
    "apiVersion: v1",
    "kind: ConfigMap",
    "metadata:",
    "  name: labelled",
    "  labels:",
    "    password: {{ .Values.db.password | quote }}",
    "",
  ].join("\n"),
};

/** A value and its base64: what a leak would show. */
function forms(value: string): string[] {
  return [value, Buffer.from(value).toString("base64")];
}

for (const forge of FORGES)
  describe(`SOPS-encrypted secrets in Git (${forge})`, () => {
    let h: FerryHarness;
    let keyDir: string;
    /** Granted to acme/* */
    let acme: AgeKey;
    /** Granted to other/* only. */
    let other: AgeKey;
    /** Granted to nobody. */
    let stranger: AgeKey;
    const secrets: string[] = [];
    const secret = () => {
      const value = `sops-${randomBytes(10).toString("hex")}`;
      secrets.push(value);
      return value;
    };

    before(async () => {
      [acme, other, stranger] = await Promise.all([ageKey(), ageKey(), ageKey()]);
      keyDir = await mkdtemp(join(tmpdir(), "ferry-age-keys-"));
      await writeFile(join(keyDir, "acme.txt"), `# the acme key\n${acme.identity}\n`);
      await writeFile(join(keyDir, "other.txt"), `${other.identity}\n`);
      h = await FerryHarness.start(
        forge,
        {},
        {
          serverConfig: {
            clusters: [{ name: TEST_CLUSTER, context: "ferry-test", kubeconfig: testKubeConfigPath() }],
            policy: [
              { repositories: ["acme/*"], clusters: [TEST_CLUSTER], namespaces: ["e2e-*"], clusterScopedKinds: [] },
            ],
            forkPlans: ["acme/*"],
            sops: {
              keys: [
                { repositories: ["acme/*"], age: { file: join(keyDir, "acme.txt") } },
                { repositories: ["other/*"], age: { file: join(keyDir, "other.txt") } },
              ],
            },
          },
        },
      );
    });
    after(async () => {
      await h?.close();
      await rm(keyDir, { recursive: true, force: true });
    });

    /** A repository with three environments in one namespace: plain manifests, Kustomize and Helm. */
    const threeWayRepo = () =>
      h.createRepo({
        environments: (namespace) =>
          ["plain", "kustomize", "helm"].map((name) => ({
            name,
            branch: "main",
            path: `deploy/${name}`,
            cluster: TEST_CLUSTER,
            namespace,
            ...(name === "helm" ? { helm: { valuesFiles: ["secrets.yaml"] } } : {}),
          })),
      });

    /** The decrypted value of a live Secret's key. */
    const liveSecret = async (repo: TestRepo, name: string, key: string) => {
      const live = (await h.list("v1", "Secret", repo.namespace)).get(name) as
        { data?: Record<string, string> } | undefined;
      return Buffer.from(live?.data?.[key] ?? "", "base64").toString();
    };

    test("a Secret, a Kustomize secretGenerator from an encrypted .env file and encrypted Helm values deploy decrypted", async () => {
      const [plain, generated, helmPassword] = [secret(), secret(), secret()];
      const repo = await threeWayRepo();
      const merged = await h.merge(repo, {
        "deploy/plain/secret.yaml": await sopsEncrypt(secretYaml("db-plain", plain), [acme.recipient], {
          encryptedRegex: SECRET_ONLY,
        }),
        "deploy/kustomize/kustomization.yaml": stringify({
          secretGenerator: [{ name: "db-kustomize", envs: ["db.env"] }],
          generatorOptions: { disableNameSuffixHash: true },
        }),
        "deploy/kustomize/db.env": await sopsEncrypt(`password=${generated}\n`, [acme.recipient], { format: "dotenv" }),
        ...chart(await sopsEncrypt(`db:\n  password: ${helmPassword}\n`, [acme.recipient])),
      });
      assert.equal((await h.deliver(merged.delivery)).status, 202);
      for (const env of ["plain", "kustomize", "helm"])
        assert.equal((await h.finalStatus(repo, merged.sha, `ferry/deploy/${env}`)).at(-1)?.state, "success", env);
      assert.equal(await liveSecret(repo, "db-plain", "password"), plain);
      assert.equal(await liveSecret(repo, "db-kustomize", "password"), generated);
      assert.equal(await liveSecret(repo, "db-helm", "password"), helmPassword);
    });

    test("a pull request copying a decrypted value into a ConfigMap, an annotation and an argument shows it nowhere; a fork's is not decrypted", async () => {
      const password = secret();
      const values = await sopsEncrypt(`db:\n  password: ${password}\n`, [acme.recipient]);
      const repo = await h.createRepo({
        environment: { path: "deploy/helm", helm: { valuesFiles: ["secrets.yaml"] } },
      });
      const base = await h.merge(repo, chart(values));
      await h.deliver(base.delivery);
      assert.equal((await h.finalStatus(repo, base.sha)).at(-1)?.state, "success");

      const pr = await h.openPullRequest(repo, SMUGGLING);
      assert.equal((await h.deliver(pr.delivery)).status, 202);
      const plan = (await h.finalStatus(repo, pr.headSha, "ferry/plan/staging")).at(-1);
      assert.equal(plan?.state, "success");
      const [comment = ""] = await h.comments(repo, pr.number, /Ferry plan/);
      assert.match(comment, /ConfigMap e2e-[0-9a-f]+\/leak/);
      assert.match(comment, /copy: "?\(hidden\)"?/);
      assert.match(comment, /--password=\(hidden\)/);
      const page = await (await h.page(plan?.targetUrl ?? "")).text();
      assert.match(page, /--password=\(hidden\)/);

      // The same change from a fork: planned (forkPlans lists acme/*) but never decrypted, and it says so.
      const fork = await h.openPullRequest(repo, SMUGGLING, { fromFork: true });
      assert.equal((await h.deliver(fork.delivery)).status, 202);
      const forkPlan = (await h.finalStatus(repo, fork.headSha, "ferry/plan/staging")).at(-1);
      assert.equal(forkPlan?.state, "failure");
      const [forkComment = ""] = await h.comments(repo, fork.number, /Ferry plan/);
      assert.match(
        forkComment,
        /not planned: SOPS-encrypted values reached the render .*deploy\/helm\/secrets\.yaml not decrypted: the pull request comes from a fork/,
      );

      // Merged, the values really are there: the masking is in what is shown, not in what is applied.
      const merged = await h.mergePullRequest(repo, pr);
      await h.deliver(merged.delivery);
      assert.equal((await h.finalStatus(repo, merged.sha)).at(-1)?.state, "success");
      const leak = (await h.list("v1", "ConfigMap", repo.namespace)).get("leak") as { data?: Record<string, string> };
      assert.equal(leak.data?.copy, password);

      const shown = [
        ...h.rawComments(repo, pr.number).map((c) => c.body),
        ...h.rawComments(repo, fork.number).map((c) => c.body),
        page,
        ...[...h.statuses(repo), ...h.planResults(repo)].map((s) => JSON.stringify(s)),
      ];
      for (const text of shown)
        for (const value of forms(password)) assert.ok(!text.includes(value), `a decrypted value is shown: ${text}`);
    });

    test("a wrong key, a tampered file and a key granted to another repository fail naming the file; nothing is applied", async () => {
      const cases = {
        "wrong key": await sopsEncrypt(secretYaml("db", secret()), [stranger.recipient], {
          encryptedRegex: SECRET_ONLY,
        }),
        tampered: tamper(
          await sopsEncrypt(secretYaml("db", secret()), [acme.recipient], { encryptedRegex: SECRET_ONLY }),
        ),
        "another repository's key": await sopsEncrypt(secretYaml("db", secret()), [other.recipient], {
          encryptedRegex: SECRET_ONLY,
        }),
      };
      const reasons = {
        "wrong key": /identity did not match any of the recipients/,
        tampered: /authentication failed|could not decrypt/i,
        "another repository's key": /identity did not match any of the recipients/,
      };
      await Promise.all(
        Object.entries(cases).map(async ([name, encrypted]) => {
          const repo = await h.createRepo();
          const merged = await h.merge(repo, {
            "deploy/secret.yaml": encrypted,
            "deploy/marker.yaml": configMapYaml("marker", { v: "1" }),
          });
          await h.deliver(merged.delivery);
          const status = (await h.finalStatus(repo, merged.sha)).at(-1);
          assert.equal(status?.state, "failure", name);
          assert.match(status?.description ?? "", /^cannot decrypt deploy\/secret\.yaml: /, name);
          const [comment = ""] = await h.comments(repo, merged.number, /secret\.yaml/);
          assert.match(comment, reasons[name as keyof typeof reasons], name);
          assert.equal((await h.list("v1", "ConfigMap", repo.namespace)).has("marker"), false, `${name}: applied`);
          assert.equal((await h.list("v1", "Secret", repo.namespace)).has("db"), false, `${name}: applied`);
        }),
      );
    });

    test("a server error quoting a decrypted value shows it redacted, in the plan and in the release", async () => {
      // '+': see LABELLED.
      const password = `sops+${randomBytes(10).toString("hex")}`;
      secrets.push(password);
      const values = await sopsEncrypt(`db:\n  password: ${password}\n`, [acme.recipient]);
      const repo = await h.createRepo({
        environment: { path: "deploy/helm", helm: { valuesFiles: ["secrets.yaml"] } },
      });
      const pr = await h.openPullRequest(repo, chart(values, LABELLED));
      await h.deliver(pr.delivery);
      const plan = (await h.finalStatus(repo, pr.headSha, "ferry/plan/staging")).at(-1);
      assert.equal(plan?.state, "failure");
      const [comment = ""] = await h.comments(repo, pr.number, /Ferry plan/);
      assert.match(comment, /Invalid value: "\[redacted\]"/);

      const merged = await h.mergePullRequest(repo, pr);
      await h.deliver(merged.delivery);
      const status = (await h.finalStatus(repo, merged.sha)).at(-1);
      assert.equal(status?.state, "failure");
      const [result = ""] = await h.comments(repo, merged.number, /Invalid value/);
      assert.match(result, /Invalid value: "\[redacted\]"/);
      assert.equal((await h.list("v1", "Secret", repo.namespace)).has("db-helm"), false, "nothing applied");
      const shown = [
        ...h.rawComments(repo, pr.number).map((c) => c.body),
        ...[...h.statuses(repo), ...h.planResults(repo)].map((st) => JSON.stringify(st)),
      ];
      for (const text of shown)
        for (const value of forms(password)) assert.ok(!text.includes(value), `a decrypted value is shown: ${text}`);
    });

    test("the logs hold no decrypted value and no age key: not from a release, a plan, or a server error quoting one", async () => {
      // Its own release, plan and failures, so the test stands alone; the others' values are looked for too.
      const released = secret();
      // Its '+' makes the API server refuse it as a label value and quote it (see LABELLED).
      const quoted = `sops+${randomBytes(10).toString("hex")}`;
      secrets.push(quoted);
      const repo = await h.createRepo({
        environment: { path: "deploy/helm", helm: { valuesFiles: ["secrets.yaml"] } },
      });
      const first = await h.merge(repo, chart(await sopsEncrypt(`db:\n  password: ${released}\n`, [acme.recipient])));
      await h.deliver(first.delivery);
      assert.equal((await h.finalStatus(repo, first.sha)).at(-1)?.state, "success");
      assert.equal(await liveSecret(repo, "db-helm", "password"), released);
      const values = await sopsEncrypt(`db:\n  password: ${quoted}\n`, [acme.recipient]);
      const pr = await h.openPullRequest(repo, chart(values, LABELLED));
      await h.deliver(pr.delivery);
      assert.equal((await h.finalStatus(repo, pr.headSha, "ferry/plan/staging")).at(-1)?.state, "failure");
      const merged = await h.mergePullRequest(repo, pr);
      await h.deliver(merged.delivery);
      assert.equal((await h.finalStatus(repo, merged.sha)).at(-1)?.state, "failure");
      // Every job logs its end before it is marked finished: once the queues settle, all is logged.
      const jobs = JobCounter.open(h.redisTarget);
      try {
        await jobs.settled(60_000);
      } finally {
        await jobs.close();
      }
      assert.ok(
        h.logLines.some((l) => l.includes(`"repository":"${repo.fullName}"`) && /"msg":"job completed"/.test(l)),
        "this test's jobs were logged",
      );
      const forbidden = [...secrets.flatMap(forms), ...[acme, other, stranger].map((k) => k.identity)];
      for (const line of h.logLines)
        for (const value of forbidden) assert.ok(!line.includes(value), `a log line holds a secret: ${line}`);
    });
  });
