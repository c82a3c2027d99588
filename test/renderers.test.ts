import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { stringify } from "yaml";
import { FerryHarness, FORGES, TEST_CLUSTER, type TestRepo } from "./support/ferry-harness.js";
import { uniqueName } from "./support/kube.js";

/** A Kustomize base with one ConfigMap, and a staging overlay patching it and generating `settings` from `colour`. */
function kustomizeTree(colour: string): Record<string, string> {
  return {
    "deploy/base/kustomization.yaml": stringify({ resources: ["web.yaml"] }),
    "deploy/base/web.yaml": stringify({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "web" },
      data: { greeting: "hello", from: "base" },
    }),
    "deploy/overlays/staging/kustomization.yaml": stringify({
      resources: ["../../base"],
      patches: [{ path: "web-patch.yaml" }],
      configMapGenerator: [{ name: "settings", literals: [`colour=${colour}`] }],
    }),
    "deploy/overlays/staging/web-patch.yaml": stringify({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "web" },
      data: { from: "staging-overlay" },
    }),
  };
}

/** A chart whose one ConfigMap shows the values it was rendered with. */
const CHART: Record<string, string> = {
  "charts/shop/Chart.yaml": stringify({ apiVersion: "v2", name: "shop", version: "0.1.0" }),
  "charts/shop/values.yaml": stringify({ colour: "grey", size: "m", replicas: 1 }),
  "charts/shop/templates/settings.yaml": [
    "apiVersion: v1",
    "kind: ConfigMap",
    "metadata:",
    "  name: {{ .Release.Name }}-settings",
    "  labels:",
    "    app.kubernetes.io/instance: {{ .Release.Name }}",
    "data:",
    "  colour: {{ .Values.colour | quote }}",
    "  size: {{ .Values.size | quote }}",
    "  replicas: {{ .Values.replicas | quote }}",
    "",
  ].join("\n"),
  "charts/shop/values-staging.yaml": stringify({ colour: "blue" }),
  "charts/shop/values-production.yaml": stringify({ colour: "red", size: "xl" }),
};

/** A ConfigMap's name that starts with `prefix` (a generator's hash-suffixed name), or undefined. */
function generated(names: Iterable<string>, prefix: string): string | undefined {
  return [...names].find((name) => name.startsWith(`${prefix}-`));
}

for (const forge of FORGES)
  describe(`Kustomize and Helm environments (${forge})`, () => {
    let h: FerryHarness;
    before(async () => (h = await FerryHarness.start(forge)));
    after(async () => h.close());

    test("a Kustomize overlay deploys base + patch + generator; a changed generator literal plans as a new hash-suffixed ConfigMap and a delete of the old", async () => {
      const repo = await h.createRepo({ environment: { path: "deploy/overlays/staging" } });
      const first = await h.merge(repo, kustomizeTree("blue"));
      await h.deliver(first.delivery);
      const deployed = (await h.finalStatus(repo, first.sha)).at(-1);
      assert.equal(deployed?.state, "success", deployed?.description);
      assert.match(deployed?.description ?? "", /^deployed: \+2 ~0 −0/);
      const live = await h.list("v1", "ConfigMap", repo.namespace);
      assert.deepEqual(live.get("web")?.data, { greeting: "hello", from: "staging-overlay" });
      const blue = generated(live.keys(), "settings");
      assert.match(blue ?? "", /^settings-[a-z0-9]{10}$/);
      assert.deepEqual(live.get(blue ?? "")?.data, { colour: "blue" });

      const pr = await h.openPullRequest(repo, kustomizeTree("green"));
      await h.deliver(pr.delivery);
      const planned = (await h.finalStatus(repo, pr.headSha, "ferry/plan/staging")).at(-1);
      assert.equal(planned?.description, "+1 ~0 −1 (1 unchanged)");
      const [comment = ""] = await h.comments(repo, pr.number, /Ferry plan/);
      const created = /staging · \+ ConfigMap e2e-[0-9a-f]+\/(settings-[a-z0-9]{10})/.exec(comment)?.[1];
      assert.ok(created !== undefined && created !== blue, comment);
      assert.match(comment, new RegExp(`staging · − ConfigMap e2e-[0-9a-f]+/${blue}`));
      assert.match(comment, /colour: green/);

      const merged = await h.mergePullRequest(repo, pr);
      await h.deliver(merged.delivery);
      assert.match(
        (await h.finalStatus(repo, merged.sha)).at(-1)?.description ?? "",
        /^deployed: \+1 ~0 −1 \(1 unchanged\)/,
      );
      const after = await h.list("v1", "ConfigMap", repo.namespace);
      assert.deepEqual(after.get(created)?.data, { colour: "green" });
      assert.ok(!after.has(blue ?? ""), "the old generated ConfigMap was pruned");
    });

    test("a Helm chart deploys to two environments with their own values files and inline values; a values change plans as an update", async () => {
      const repo = await h.createRepo({ environment: { path: "charts/shop" } });
      const production = uniqueName("e2e");
      const environment = (name: string, namespace: string, helm: Record<string, unknown>) => ({
        name,
        branch: "main",
        path: "charts/shop",
        cluster: TEST_CLUSTER,
        namespace,
        render: "helm",
        helm,
      });
      const config = stringify({
        version: 1,
        environments: [
          environment("staging", repo.namespace, { valuesFiles: ["values-staging.yaml"] }),
          environment("production", production, {
            releaseName: "shop",
            valuesFiles: ["values-production.yaml"],
            values: { replicas: 3 },
          }),
        ],
      });
      const first = await h.merge(repo, { ".ferry.yml": config, ...CHART });
      await h.deliver(first.delivery);
      for (const context of ["ferry/deploy/staging", "ferry/deploy/production"]) {
        const status = (await h.finalStatus(repo, first.sha, context)).at(-1);
        assert.equal(status?.state, "success", `${context}: ${status?.description}`);
      }
      assert.deepEqual((await h.list("v1", "ConfigMap", repo.namespace)).get("staging-settings")?.data, {
        colour: "blue",
        size: "m",
        replicas: "1",
      });
      assert.deepEqual((await h.list("v1", "ConfigMap", production)).get("shop-settings")?.data, {
        colour: "red",
        size: "xl",
        replicas: "3",
      });

      const pr = await h.openPullRequest(repo, { "charts/shop/values-staging.yaml": stringify({ colour: "green" }) });
      await h.deliver(pr.delivery);
      assert.equal(
        (await h.finalStatus(repo, pr.headSha, "ferry/plan/staging")).at(-1)?.description,
        "+0 ~1 −0 (0 unchanged)",
      );
      assert.equal(
        (await h.finalStatus(repo, pr.headSha, "ferry/plan/production")).at(-1)?.description,
        "+0 ~0 −0 (1 unchanged)",
      );
      const [comment = ""] = await h.comments(repo, pr.number, /Ferry plan/);
      assert.match(comment, /staging · ~ ConfigMap e2e-[0-9a-f]+\/staging-settings/);
      assert.match(comment, /- {2}colour: blue\n\+ {2}colour: green/);
    });

    /** Merges `files` into a fresh repository whose environment is `environment`, and expects plan and deploy to fail with `message`, writing nothing. */
    async function expectRefused(
      environment: Record<string, unknown>,
      files: Record<string, string>,
      message: RegExp,
    ): Promise<void> {
      const repo: TestRepo = await h.createRepo({ environment });
      const pr = await h.openPullRequest(repo, files);
      await h.deliver(pr.delivery);
      const plan = (await h.finalStatus(repo, pr.headSha, "ferry/plan/staging")).at(-1);
      assert.equal(plan?.state, "failure");
      assert.match(plan?.description ?? "", message);
      await h.comments(repo, pr.number, message);

      const merged = await h.mergePullRequest(repo, pr);
      await h.deliver(merged.delivery);
      const deploy = (await h.finalStatus(repo, merged.sha)).at(-1);
      assert.equal(deploy?.state, "failure");
      assert.match(deploy?.description ?? "", message);
      const [result = ""] = await h.comments(repo, pr.number, /Ferry release/);
      assert.match(result, message);
      assert.equal(await h.namespaceExists(repo.namespace), false, "nothing was written");
    }

    test("a kustomization with a remote base fails with a message and writes nothing", async () => {
      await expectRefused(
        {},
        {
          "deploy/kustomization.yaml": stringify({
            resources: ["https://github.com/acme/infra//base?ref=v1.0.0", "cm.yaml"],
          }),
          "deploy/cm.yaml": stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" } }),
        },
        /deploy\/kustomization\.yaml: resources: https:\/\/github\.com\/acme\/infra\/\/base\?ref=v1\.0\.0 is a remote reference/,
      );
    });

    test("a kustomization reaching outside the repository fails with a message and writes nothing", async () => {
      await expectRefused(
        { render: "kustomize" },
        { "deploy/kustomization.yaml": stringify({ resources: ["../../.."] }) },
        /deploy\/kustomization\.yaml: resources: \.\.\/\.\.\/\.\. is outside the repository/,
      );
    });

    test("a chart with a dependency that is not vendored fails with a message and writes nothing", async () => {
      const chart = {
        ...CHART,
        "charts/shop/Chart.yaml": stringify({
          apiVersion: "v2",
          name: "shop",
          version: "0.1.0",
          dependencies: [{ name: "redis", version: "19.x", repository: "https://charts.bitnami.com/bitnami" }],
        }),
      };
      await expectRefused(
        { path: "charts/shop" },
        chart,
        /chart charts\/shop: dependency redis \(from https:\/\/charts\.bitnami\.com\/bitnami\) is not vendored/,
      );
    });
  });
