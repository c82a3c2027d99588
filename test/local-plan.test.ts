import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { KubeClient } from "../src/kube/kube-client.js";
import { releaseEnvironment } from "../src/release/release-session.js";
import { PlainRenderer } from "../src/render/plain-renderer.js";
import { stringify } from "yaml";
import { configMapYaml } from "./support/ferry-harness.js";
import { ageKey, sopsEncrypt } from "./support/sops.js";
import { writeTree } from "./support/file-tree.js";
import { createTestNamespace, testKubeConfig, testKubeConfigPath } from "./support/kube.js";

const run = promisify(execFile);
const ROOT = new URL("..", import.meta.url).pathname;

/** Runs `ferry plan` as a user would and returns its exit code and output. */
function ferryPlan(...args: string[]): Promise<{ code: number; out: string }> {
  return ferryPlanWith({}, ...args);
}

/** Runs `ferry plan` with `env` added to the environment. */
async function ferryPlanWith(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run(
      process.execPath,
      [join(ROOT, "bin/ferry.js"), "plan", "--kubeconfig", testKubeConfigPath(), ...args],
      { cwd: ROOT, env: { ...process.env, ...env } },
    );
    return { code: 0, out: stdout };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

describe("ferry plan --dir", () => {
  const kc = testKubeConfig();
  let namespace: string;
  let dir: string;
  before(async () => {
    namespace = await createTestNamespace(kc, "local-plan");
    dir = await mkdtemp(join(tmpdir(), "ferry-local-plan-"));
    // What a local plan compares with: the objects as a release of the same directory left them.
    await writeFile(join(dir, "a.yaml"), configMapYaml("a", { v: "1" }));
    const client = await KubeClient.fromKubeConfig(kc);
    await releaseEnvironment({
      client,
      repository: "local",
      env: { name: "local", branch: "-", path: ".", cluster: "ferry-test", namespace, prune: false },
      grant: { cluster: "ferry-test", namespaces: ["*"], clusterScopedKinds: [] },
      rendered: await new PlainRenderer().render(dir, { path: "." }),
      sha: "setup",
      actor: "test",
    });
    client.close();
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  test("exits 0 when the cluster already matches, 1 with a diff when it does not, 2 on an error", async () => {
    const same = await ferryPlan("--dir", dir, "--namespace", namespace);
    assert.equal(same.code, 0, same.out);

    await writeFile(join(dir, "a.yaml"), configMapYaml("a", { v: "2" }));
    await writeFile(join(dir, "b.yaml"), configMapYaml("b", { v: "1" }));
    const changed = await ferryPlan("--dir", dir, "--namespace", namespace);
    assert.equal(changed.code, 1, changed.out);
    assert.match(changed.out, /- {2}v: "1"\n\+ {2}v: "2"/);
    assert.match(changed.out, /ConfigMap [^ ]+\/b/);

    await writeFile(
      join(dir, "bad.yaml"),
      stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "Not_Valid" } }),
    );
    const broken = await ferryPlan("--dir", dir, "--namespace", namespace);
    assert.equal(broken.code, 2, broken.out);
    assert.match(broken.out, /ConfigMap [^ ]+\/Not_Valid \(bad\.yaml\): .*Invalid value: "Not_Valid"/);
  });

  test("decrypts SOPS files with SOPS_AGE_KEY_FILE, showing no decrypted value; without a key, fails naming the file", async () => {
    const key = await ageKey();
    const password = `local-${randomBytes(8).toString("hex")}`;
    const sopsDir = join(dir, "sops");
    await writeTree(sopsDir, {
      "secret.yaml": await sopsEncrypt(
        stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "copied" }, data: { password } }),
        [key.recipient],
      ),
    });
    const keyFile = join(dir, "age.txt");
    await writeFile(keyFile, `${key.identity}\n`);
    const planned = await ferryPlanWith({ SOPS_AGE_KEY_FILE: keyFile }, "--dir", sopsDir, "--namespace", namespace);
    assert.equal(planned.code, 1, planned.out);
    assert.match(planned.out, /ConfigMap [^ ]+\/copied/);
    assert.match(planned.out, /password: "?\(hidden\)"?/);
    assert.ok(!planned.out.includes(password), planned.out);
    const keyless = await ferryPlanWith({ SOPS_AGE_KEY_FILE: "" }, "--dir", sopsDir, "--namespace", namespace);
    assert.equal(keyless.code, 2, keyless.out);
    assert.match(keyless.out, /cannot decrypt secret\.yaml: no age key is granted to local environment local/);
  });

  test("renders a Kustomize overlay inside its git work tree and a Helm chart as releases do; --render overrides detection", async () => {
    const repo = join(dir, "repo");
    await writeTree(repo, {
      "base/kustomization.yaml": "resources: [cm.yaml]\n",
      "base/cm.yaml": configMapYaml("from-base", { v: "1" }),
      "overlays/staging/kustomization.yaml":
        "resources: [../../base]\nconfigMapGenerator:\n  - name: settings\n    literals: [colour=blue]\n",
      "chart/Chart.yaml": "apiVersion: v2\nname: shop\nversion: 0.1.0\n",
      "chart/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-settings\n",
    });
    await run("git", ["init", "-q", repo]);

    const overlay = await ferryPlan("--dir", join(repo, "overlays/staging"), "--namespace", namespace);
    assert.equal(overlay.code, 1, overlay.out);
    assert.match(overlay.out, /\+ ConfigMap [^ ]+\/from-base from kustomize build overlays\/staging#\d/);
    assert.match(overlay.out, /\+ ConfigMap [^ ]+\/settings-[a-z0-9]{10} /);

    const plain = await ferryPlan(
      "--dir",
      join(repo, "overlays/staging"),
      "--namespace",
      namespace,
      "--render",
      "plain",
    );
    assert.equal(plain.code, 2, plain.out);
    assert.match(plain.out, /overlays\/staging\/kustomization\.yaml: not a Kubernetes object: missing apiVersion/);

    const chart = await ferryPlan("--dir", join(repo, "chart"), "--namespace", namespace, "--release-name", "web");
    assert.equal(chart.code, 1, chart.out);
    assert.match(chart.out, /\+ ConfigMap [^ ]+\/web-settings from chart\/templates\/cm\.yaml/);
  });

  /** Releases the plain manifests under `root`/`path` as the server releases `repository`'s environment `env`. */
  async function serverRelease(repository: string, env: string, root: string, path: string, ns: string): Promise<void> {
    const client = await KubeClient.fromKubeConfig(kc);
    await releaseEnvironment({
      client,
      repository,
      env: { name: env, branch: "main", path, cluster: "ferry-test", namespace: ns, prune: true },
      grant: { cluster: "ferry-test", namespaces: [ns], clusterScopedKinds: [] },
      rendered: await new PlainRenderer().render(root, { path }),
      sha: "server",
      actor: "test",
    });
    client.close();
  }

  test("plans as the environment the server released: --repo and --env exit 0 on the unchanged directory; as local, the objects are that environment's", async () => {
    const ns = await createTestNamespace(kc, "local-plan-as");
    const served = join(dir, "served");
    await writeTree(served, { "c.yaml": configMapYaml("c", { v: "1" }), "d.yaml": configMapYaml("d", { v: "1" }) });
    const repository = `acme/${ns}`;
    await serverRelease(repository, "staging", served, ".", ns);

    const same = await ferryPlan("--dir", served, "--namespace", ns, "--repo", repository, "--env", "staging");
    assert.equal(same.code, 0, same.out);
    assert.match(same.out, /\(cluster ferry-test\): \+0 ~0 −0 \(2 unchanged\)/);

    const asLocal = await ferryPlan("--dir", served, "--namespace", ns);
    assert.equal(asLocal.code, 2, asLocal.out);
    assert.match(
      asLocal.out,
      new RegExp(
        `ConfigMap ${ns}/c \\(c\\.yaml\\) is owned by ${repository}@staging \\(inventory ${ns}/ferry-staging-[0-9a-f]+\\) \\(and 1 more\\)`,
      ),
    );
    assert.match(
      asLocal.out,
      /to plan as the environment that released these objects, name it, e\.g\. --repo acme\/shop --env staging/,
    );

    const half = await ferryPlan("--dir", served, "--namespace", ns, "--repo", repository);
    assert.equal(half.code, 2, half.out);
    assert.match(half.out, /give --repo and --env together/);
  });

  test("with .ferry.yml in --dir, --env plans that environment as configured, showing what its prune deletes, or that prune is off", async () => {
    const ns = await createTestNamespace(kc, "local-plan-config");
    const repo = join(dir, "configured");
    const ferryYml = (prune: boolean) =>
      stringify({
        version: 1,
        environments: [
          { name: "staging", branch: "main", path: "deploy", cluster: "staging", namespace: ns, prune },
          { name: "other", branch: "main", path: "x", cluster: "c", namespace: ns },
        ],
      });
    await writeTree(repo, {
      ".ferry.yml": ferryYml(true),
      "deploy/keep.yaml": configMapYaml("keep", { v: "1" }),
      "deploy/old.yaml": configMapYaml("old", { v: "1" }),
    });
    const repository = `acme/${ns}`;
    await serverRelease(repository, "staging", repo, "deploy", ns);

    const same = await ferryPlan("--dir", repo, "--repo", repository, "--env", "staging");
    assert.equal(same.code, 0, same.out);

    await rm(join(repo, "deploy/old.yaml"));
    const pruning = await ferryPlan("--dir", repo, "--repo", repository, "--env", "staging");
    assert.equal(pruning.code, 1, pruning.out);
    assert.match(pruning.out, /\+0 ~0 −1 \(1 unchanged\)/);
    assert.match(pruning.out, new RegExp(`− ConfigMap ${ns}/old\n-apiVersion: v1`));

    await writeFile(join(repo, ".ferry.yml"), ferryYml(false));
    const kept = await ferryPlan("--dir", repo, "--repo", repository, "--env", "staging");
    assert.equal(kept.code, 0, kept.out);
    assert.match(
      kept.out,
      new RegExp(`note: prune is off for staging: ConfigMap ${ns}/old no longer in Git stays on the cluster`),
    );

    const unnamed = await ferryPlan("--dir", repo, "--repo", repository);
    assert.equal(unnamed.code, 2, unnamed.out);
    const noEnv = await ferryPlan("--dir", repo);
    assert.equal(noEnv.code, 2, noEnv.out);
    assert.match(noEnv.out, /\.ferry\.yml: name the environment to plan with --env \(staging, other\)/);
    const unknown = await ferryPlan("--dir", repo, "--repo", repository, "--env", "prod");
    assert.match(unknown.out, /has no environment "prod" \(it has staging, other\)/);
    const overridden = await ferryPlan(
      "--dir",
      repo,
      "--repo",
      repository,
      "--env",
      "staging",
      "--namespace",
      "elsewhere",
    );
    assert.equal(overridden.code, 2, overridden.out);
    assert.match(overridden.out, /--namespace: environment staging of .*\.ferry\.yml sets these/);
  });
});
