import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { KubeClient } from "../src/kube/kube-client.js";
import { planEnvironment } from "../src/release/plan-environment.js";
import { releaseEnvironment } from "../src/release/release-session.js";
import type { RenderedObject } from "../src/render/types.js";
import { configMapYaml, FerryHarness } from "./support/ferry-harness.js";
import { createTestNamespace, testKubeConfig, testKubeConfigPath, uniqueName } from "./support/kube.js";
import { readOnlyKubeconfig } from "./support/read-only-kubeconfig.js";

const run = promisify(execFile);
const ROOT = new URL("..", import.meta.url).pathname;

/** Runs `ferry` as a user would and returns its exit code and output. */
async function ferry(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(ROOT, "bin/ferry.js"), ...args], { cwd: ROOT });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

const configMap = (name: string, data: Record<string, string>, namespace?: string): RenderedObject => ({
  object: {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, ...(namespace === undefined ? {} : { namespace }) },
    data,
  },
  source: `deploy/${name}.yaml`,
});

describe("plans write nothing", () => {
  let client: KubeClient;
  let work: string;
  let readOnly: Awaited<ReturnType<typeof readOnlyKubeconfig>>;
  before(async () => {
    client = await KubeClient.fromKubeConfig(testKubeConfig());
    work = await mkdtemp(join(tmpdir(), "ferry-plan-writes-nothing-"));
    readOnly = await readOnlyKubeconfig(work);
  });
  after(async () => {
    client.close();
    await readOnly.cleanup();
    await rm(work, { recursive: true, force: true });
  });
  const status = async (path: string) => (await client.request("GET", path)).status;

  test("ferry plan with read-only credentials plans creates, updates and deletes, says what it could not dry-run, and writes nothing", async () => {
    const namespace = await createTestNamespace(testKubeConfig(), "read-only");
    const fresh = uniqueName("fresh");
    const repository = `acme/${uniqueName("read-only")}`;
    const env = { name: "staging", branch: "main", path: ".", cluster: "ferry-test", namespace, prune: true };
    const grant = { cluster: "ferry-test", namespaces: ["*"], clusterScopedKinds: [] };
    await releaseEnvironment({
      client,
      repository,
      env,
      grant,
      rendered: [configMap("a", { v: "1" }), configMap("gone", { v: "1" }), configMap("same", { v: "1" })],
      sha: "base",
      actor: "test",
    });

    const dir = join(work, "read-only-cli");
    await run("mkdir", ["-p", dir]);
    await writeFile(join(dir, "a.yaml"), configMapYaml("a", { v: "2" }));
    await writeFile(join(dir, "same.yaml"), configMapYaml("same", { v: "1" }));
    await writeFile(
      join(dir, "b.yaml"),
      stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "b", namespace: fresh }, data: { v: "1" } }),
    );
    const plan = await ferry(
      "plan",
      "--kubeconfig",
      readOnly.path,
      "--dir",
      dir,
      "--namespace",
      namespace,
      "--repo",
      repository,
      "--env",
      "staging",
    );
    assert.equal(plan.code, 1, plan.out);
    assert.match(plan.out, /\(cluster ferry-test\): \+1 ~1 −1 \(1 unchanged\)/);
    assert.match(
      plan.out,
      new RegExp(
        `note: namespace ${fresh} does not exist yet \\(a release creates it\\): its object is dry-run in ferry-validation`,
      ),
    );
    assert.match(
      plan.out,
      new RegExp(
        `\\+ ConfigMap ${fresh}/b from b\\.yaml\\nnot dry-run: the server refused the dry-run \\([^\\n]*User "${readOnly.user}" cannot create resource "configmaps"`,
      ),
    );
    assert.match(
      plan.out,
      new RegExp(
        `~ ConfigMap ${namespace}/a from a\\.yaml\\nnot dry-run: [^\\n]*cannot patch resource "configmaps"[^\\n]*the diff compares the live object with what the manifest sets`,
      ),
    );
    assert.match(plan.out, /- {2}v: "1"\n\+ {2}v: "2"/);
    assert.match(plan.out, new RegExp(`− ConfigMap ${namespace}/gone`));

    assert.equal(await status(`/api/v1/namespaces/${fresh}`), 404, "the new namespace was not created");
    const a = (await client.call("GET", `/api/v1/namespaces/${namespace}/configmaps/a`)) as {
      data: Record<string, string>;
    };
    assert.deepEqual(a.data, { v: "1" });
    assert.equal(await status(`/api/v1/namespaces/${namespace}/configmaps/gone`), 200);
  });

  test("a pull request's plan with read-only credentials succeeds, marks what it could not dry-run, and writes nothing", async () => {
    const h = await FerryHarness.start("github", {}, { kubeconfig: readOnly.path });
    try {
      const repo = await h.createRepo();
      const base = [configMap("keep", { v: "1" }), configMap("change", { v: "1" }), configMap("remove", { v: "1" })];
      const env = {
        name: "staging",
        branch: "main",
        path: "deploy",
        cluster: "test",
        namespace: repo.namespace,
        prune: true,
      };
      await releaseEnvironment({
        client,
        repository: repo.fullName,
        env,
        grant: { cluster: "test", namespaces: ["e2e-*"], clusterScopedKinds: [] },
        rendered: base,
        sha: "base",
        actor: "test",
      });
      await repo.git.writeFiles({
        "deploy/keep.yaml": configMapYaml("keep", { v: "1" }),
        "deploy/change.yaml": configMapYaml("change", { v: "1" }),
        "deploy/remove.yaml": configMapYaml("remove", { v: "1" }),
      });
      await repo.git.commit("base");

      const pr = await h.openPullRequest(repo, {
        "deploy/add.yaml": configMapYaml("add", { v: "1" }),
        "deploy/change.yaml": configMapYaml("change", { v: "2" }),
        "deploy/remove.yaml": null,
      });
      await h.deliver(pr.delivery);
      const final = (await h.finalStatus(repo, pr.headSha, "ferry/plan/staging")).at(-1);
      assert.equal(final?.state, "success", final?.description);
      assert.equal(final?.description, "+1 ~1 −1 (1 unchanged); 2 not dry-run");
      const [comment = ""] = await h.comments(repo, pr.number, /Ferry plan/);
      assert.match(comment, /staging · \+ ConfigMap e2e-[0-9a-f]+\/add ⚠️ not dry-run/);
      assert.match(comment, /staging · ~ ConfigMap e2e-[0-9a-f]+\/change ⚠️ not dry-run/);
      assert.match(comment, /these credentials cannot validate this object/);
      assert.match(comment, /- {2}v: "1"\n\+ {2}v: "2"/);

      const live = await h.list("v1", "ConfigMap", repo.namespace);
      assert.ok(!live.has("add"), "nothing was created");
      assert.deepEqual(live.get("change")?.data, { v: "1" });
      assert.ok(live.has("remove"));
    } finally {
      await h.close();
    }
  });

  test("without the validation namespace, a plan and a release of a new namespace fail naming ferry setup-cluster, and create nothing", async () => {
    const namespace = uniqueName("new");
    const validationNamespace = uniqueName("no-validation");
    const target = {
      client,
      repository: `acme/${uniqueName("setup")}`,
      env: { name: "staging", branch: "main", path: ".", cluster: "ferry-test", namespace, prune: true },
      grant: { cluster: "ferry-test", namespaces: ["*"], clusterScopedKinds: [] },
      validationNamespace,
    };
    const rendered = [configMap("a", { v: "1" })];
    const message = new RegExp(
      `^namespace ${namespace} does not exist yet, so its object can only be validated in Ferry's validation namespace ${validationNamespace}, ` +
        'which does not exist on cluster "ferry-test": create it with `ferry setup-cluster`',
    );
    await assert.rejects(planEnvironment({ ...target, rendered, sha: "plan" }), (error: Error) =>
      message.test(error.message),
    );
    await assert.rejects(
      releaseEnvironment({ ...target, rendered, sha: "release", actor: "test" }),
      (error: Error) => message.test(error.message) && /nothing was applied$/.test(error.message),
    );
    assert.equal(await status(`/api/v1/namespaces/${validationNamespace}`), 404);
    assert.equal(await status(`/api/v1/namespaces/${namespace}`), 404);
  });

  test("ferry setup-cluster leaves a cluster that has the validation namespace as it is, and names a context it cannot reach", async () => {
    const ready = await ferry("setup-cluster", "--kubeconfig", readOnly.path);
    assert.equal(ready.code, 0, ready.out);
    assert.equal(ready.out, "ferry-test: namespace ferry-validation is there already\n");
    const admin = await ferry(
      "setup-cluster",
      "--kubeconfig",
      testKubeConfigPath(),
      "--context",
      "ferry-test",
      "nowhere",
    );
    assert.equal(admin.code, 2, admin.out);
    assert.match(
      admin.out,
      /^ferry-test: namespace ferry-validation is there already\nferry setup-cluster: nowhere: no context "nowhere" in the kubeconfig\n$/,
    );
  });
});
