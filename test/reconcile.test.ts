import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { AppsV1Api, KubernetesObjectApi, type KubeConfig } from "@kubernetes/client-node";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { stringify } from "yaml";
import type { ReconcileJobData } from "../src/queue/reconcile-request.js";
import { AuditReader } from "./support/audit-records.js";
import type { SeenStatus } from "./support/forge-doubles/forge-double.js";
import { configMapYaml, FerryHarness, FORGES, TEST_CLUSTER, type TestRepo } from "./support/ferry-harness.js";
import { editByHand, testFleetContexts, testKubeConfigFor, testKubeConfigPath } from "./support/kube.js";
import { waitUntil } from "./support/wait-until.js";

/** A Deployment `web` (nginx, env FOO, label tier), with `replicas` unless undefined. */
function deploymentYaml(options: { replicas?: number; foo?: string } = {}): string {
  return stringify({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", labels: { tier: "web" } },
    spec: {
      ...(options.replicas === undefined ? {} : { replicas: options.replicas }),
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: { containers: [{ name: "web", image: "nginx:1.27", env: [{ name: "FOO", value: options.foo ?? "1" }] }] },
      },
    },
  });
}

const SERVICE_YAML = stringify({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "web" },
  spec: { selector: { app: "web" }, ports: [{ port: 80 }] },
});

/**
 * The server's floor is 2s and every environment asks for 1s: raised to the floor (and logged), so
 * a reconcile runs every 2 s.
 */
for (const forge of FORGES)
  describe(`reconcile and drift (${forge})`, () => {
    let h: FerryHarness;
    let audit: AuditReader;
    before(async () => {
      h = await FerryHarness.start(
        forge,
        {},
        {
          serverConfig: {
            clusters: [{ name: TEST_CLUSTER, context: "ferry-test", kubeconfig: testKubeConfigPath() }],
            policy: [
              { repositories: ["acme/*"], clusters: [TEST_CLUSTER], namespaces: ["e2e-*"], clusterScopedKinds: [] },
            ],
            reconcile: { minInterval: "2s" },
          },
        },
      );
      audit = AuditReader.open(h.redisUrl);
    });
    after(async () => {
      audit?.close();
      await h.close();
    });
    /** The heal records of an environment, as `[actor, outcome, + names, ~ names]`. */
    const healRecords = async (repo: TestRepo, env: string) =>
      (await audit.records(forge, repo.fullName, env))
        .filter((r) => r.action === "heal")
        .map((r) => [r.actor, r.cluster, r.outcome, r.objects?.created, r.objects?.configured]);

    /** A repository whose one environment (named `env`, unique to the test) is reconciled every 1s (raised to 2s). */
    const reconciledRepo = (env: string, reconcile: Record<string, unknown> = {}) =>
      h.createRepo({ environment: { name: env, wait: false, reconcile: { interval: "1s", ...reconcile } } });

    const objects = () => KubernetesObjectApi.makeApiClient(h.kc);
    const deployment = async (repo: TestRepo) =>
      (await h.list("apps/v1", "Deployment", repo.namespace)).get("web") as
        | {
            metadata: { labels?: Record<string, string> };
            spec: { replicas?: number; template: { spec: { containers: Array<{ env?: Array<{ value?: string }> }> } } };
          }
        | undefined;
    const configMap = async (repo: TestRepo, name: string) =>
      ((await h.list("v1", "ConfigMap", repo.namespace)).get(name) as { data?: Record<string, string> } | undefined)
        ?.data;
    const driftStatuses = (repo: TestRepo, env: string, sha?: string): SeenStatus[] =>
      h.statuses(repo, sha).filter((s) => s.context === `ferry/drift/${env}`);
    const latestDrift = (repo: TestRepo, env: string) => h.latestStatus(repo, `ferry/drift/${env}`);

    /** Waits for the latest `ferry/drift/<env>` status to be `state` with a description matching `pattern`; returns it. */
    const waitForDrift = (repo: TestRepo, env: string, state: "success" | "failure", pattern: RegExp, ms?: number) =>
      h.waitForLatestStatus(repo, `ferry/drift/${env}`, state, pattern, ms);

    /** A metric's value for the environment on the test cluster, from /metrics. */
    async function metric(name: string, env: string): Promise<number | undefined> {
      const text = await (await fetch(`${h.url}/metrics`)).text();
      const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && l.includes(`environment="${env}"`));
      return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
    }

    /** Waits for `runs` more reconciles of the environment to complete, checking `each` after every one. */
    async function waitForRuns(env: string, runs: number, each: () => void | Promise<void>): Promise<void> {
      for (let i = 0; i < runs; i++) {
        const before = (await metric("ferry_reconcile_last_success_timestamp_seconds", env)) ?? 0;
        await waitUntil(
          `reconcile ${i + 1}/${runs} of ${env} never completed`,
          async () => ((await metric("ferry_reconcile_last_success_timestamp_seconds", env)) ?? 0) > before,
          30_000,
        );
        await each();
      }
    }

    /** Merges `files`, delivers the webhook and waits for the deploy's final status. */
    async function deploy(repo: TestRepo, env: string, files: Record<string, string | null>) {
      const merge = await h.merge(repo, files);
      assert.equal((await h.deliver(merge.delivery)).status, 202);
      const final = (await h.finalStatus(repo, merge.sha, `ferry/deploy/${env}`)).at(-1);
      assert.equal(final?.state, "success", final?.description);
      return merge;
    }

    test("edits by other managers to fields Ferry set are drift naming field, values and manager; /ferry heal and a merge end it", async () => {
      const env = "edits";
      const repo = await reconciledRepo(env);
      const merge = await deploy(repo, env, {
        "deploy/web.yaml": deploymentYaml({ replicas: 2 }),
        "deploy/cm.yaml": configMapYaml("flags", { a: "1" }),
      });
      const synced = await waitForDrift(repo, env, "success", /^in sync \(checked \d\d:\d\d UTC\)$/);
      assert.ok(synced);
      assert.ok(driftStatuses(repo, env, merge.sha).length > 0, "the drift status is on the released commit");

      const web = { apiVersion: "apps/v1", kind: "Deployment", namespace: repo.namespace, name: "web" };
      await editByHand(h.kc, web, { spec: { replicas: 5 } });
      await waitForDrift(
        repo,
        env,
        "failure",
        new RegExp(`^1 object drifted: Deployment ${repo.namespace}/web spec\\.replicas 2→5 by kubectl-edit$`),
      );
      // One issue, with the field, its values, who changed it, and how to heal.
      await waitUntil(
        () => `no drift issue; issues ${JSON.stringify(h.forge.issues(repo.fullName))}`,
        () => h.forge.issues(repo.fullName).some((i) => i.state === "open"),
        30_000,
      );
      const [issue] = h.forge.issues(repo.fullName);
      assert.equal(issue?.title, `Drift in ${env}`);
      assert.match(
        issue?.body ?? "",
        /\| `Deployment [^`]+\/web` \| `spec\.replicas` \| `2` \| `5` \| `kubectl-edit` \(Update\) \|/,
      );
      assert.match(issue?.body ?? "", new RegExp(`/ferry heal ${env}`));

      h.forge.setAccess(repo.fullName, "lead", "write");
      await h.deliver(h.comment(repo, { number: merge.number } as never, "lead", "/ferry heal"));
      await h.comments(repo, merge.number, /restored 1 object \(`Deployment [^`]+\/web`\)/);
      assert.equal((await deployment(repo))?.spec.replicas, 2, "the heal put Ferry's replicas back");
      assert.deepEqual(await healRecords(repo, env), [
        ["lead", TEST_CLUSTER, "healed", [], [`Deployment ${repo.namespace}/web`]],
      ]);
      await waitForDrift(repo, env, "success", /^(in sync|healed 1 object) \(checked/);
      await waitUntil(
        "the drift issue was never closed",
        () => h.forge.issues(repo.fullName).every((i) => i.state === "closed"),
        30_000,
      );
      assert.match(h.forge.issues(repo.fullName)[0]?.comments.at(-1) ?? "", /^Back in sync/);

      await editByHand(
        h.kc,
        web,
        { spec: { template: { spec: { containers: [{ name: "web", env: [{ name: "FOO", value: "2" }] }] } } } },
        { strategic: true },
      );
      await waitForDrift(
        repo,
        env,
        "failure",
        /spec\.template\.spec\.containers\[name=web\]\.env\[name=FOO\]\.value "1"→"2" by kubectl-edit$/,
      );
      // The drift issue opens again; a change opened before it would race it for GitHub's shared numbers.
      await waitUntil(
        "the drift issue never opened again",
        () => h.forge.issues(repo.fullName).some((i) => i.state === "open"),
        30_000,
      );
      // A merge that sets the field ends the drift (and closes the issue): Ferry owns it again, with Git's value.
      await deploy(repo, env, { "deploy/web.yaml": deploymentYaml({ replicas: 2, foo: "3" }) });
      await waitForDrift(repo, env, "success", /^in sync/);
      assert.equal((await deployment(repo))?.spec.template.spec.containers[0]?.env?.[0]?.value, "3");
      await waitUntil(
        "the merge never closed the drift issue",
        () => h.forge.issues(repo.fullName).every((i) => i.state === "closed"),
        30_000,
      );

      await editByHand(h.kc, web, { metadata: { labels: { tier: "by-hand" } } }, { manager: "kubectl-label" });
      await waitForDrift(repo, env, "failure", /metadata\.labels\.tier "web"→"by-hand" by kubectl-label$/);
      // The gauge is set once the run that posted the status has completed.
      await waitUntil(
        "ferry_drifted_objects never said 1",
        async () => (await metric("ferry_drifted_objects", env)) === 1,
        30_000,
      );
      await waitUntil(
        "the drift issue was never opened again",
        () => h.forge.issues(repo.fullName).filter((i) => i.state === "open").length === 1,
        30_000,
      );
      assert.equal(
        h.forge.issues(repo.fullName).filter((i) => i.state === "open").length,
        1,
        "never more than one open drift issue",
      );
    });

    test("drift: heal restores edited fields and re-creates deleted objects on its own; report mode reports a deletion", async () => {
      const env = "healing";
      const repo = await reconciledRepo(env, { drift: "heal" });
      await deploy(repo, env, {
        "deploy/web.yaml": deploymentYaml({ replicas: 2 }),
        "deploy/cm.yaml": configMapYaml("flags", { a: "1" }),
      });
      await waitForDrift(repo, env, "success", /^in sync/);
      const web = { apiVersion: "apps/v1", kind: "Deployment", namespace: repo.namespace, name: "web" };
      await editByHand(h.kc, web, { spec: { replicas: 4 } });
      await waitForDrift(repo, env, "success", /^healed 1 object \(checked/);
      await waitUntil("replicas never restored", async () => (await deployment(repo))?.spec.replicas === 2, 30_000);

      await objects().delete({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "flags", namespace: repo.namespace },
      });
      await waitUntil(
        "the deleted ConfigMap was never re-created",
        async () => (await configMap(repo, "flags"))?.a === "1",
        30_000,
      );
      // Each heal is an audit record by reconcile, naming what it restored (the second heal's status
      // reads as the first's: wait for its record, written once the ConfigMap was re-created).
      await waitUntil(
        "the second heal was never recorded",
        async () => (await healRecords(repo, env)).length >= 2,
        30_000,
      );
      await waitForDrift(repo, env, "success", /^healed 1 object/);
      assert.deepEqual(await healRecords(repo, env), [
        ["reconcile", TEST_CLUSTER, "healed", [], [`Deployment ${repo.namespace}/web`]],
        ["reconcile", TEST_CLUSTER, "healed", [`ConfigMap ${repo.namespace}/flags`], []],
      ]);

      const reporting = await reconciledRepo("deleting");
      await deploy(reporting, "deleting", { "deploy/cm.yaml": configMapYaml("flags", { a: "1" }) });
      await waitForDrift(reporting, "deleting", "success", /^in sync/);
      await objects().delete({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "flags", namespace: reporting.namespace },
      });
      await waitForDrift(
        reporting,
        "deleting",
        "failure",
        new RegExp(`^1 object drifted: ConfigMap ${reporting.namespace}/flags deleted$`),
      );
    });

    test("no false drift over several reconciles: scaled through /scale, server defaults, controller status, another manager's label", async () => {
      const env = "quiet";
      const repo = await reconciledRepo(env);
      await deploy(repo, env, {
        "deploy/web.yaml": deploymentYaml(),
        "deploy/svc.yaml": SERVICE_YAML,
        "deploy/cm.yaml": configMapYaml("flags", { a: "1" }),
      });
      await waitForDrift(repo, env, "success", /^in sync/);
      // As an HPA does: the scale subresource, by a manager of its own, on a Deployment Ferry applied without replicas.
      await h.kc.makeApiClient(AppsV1Api).replaceNamespacedDeploymentScale({
        name: "web",
        namespace: repo.namespace,
        fieldManager: "autoscaler",
        body: { metadata: { name: "web", namespace: repo.namespace }, spec: { replicas: 3 } },
      });
      await editByHand(
        h.kc,
        { apiVersion: "v1", kind: "ConfigMap", namespace: repo.namespace, name: "flags" },
        { metadata: { labels: { team: "payments" } } },
        { manager: "kubectl-label" },
      );
      assert.equal((await deployment(repo))?.spec.replicas, 3);
      await waitUntil(
        "the deployment controller never wrote status",
        async () =>
          ((await deployment(repo)) as { status?: { observedGeneration?: number } } | undefined)?.status
            ?.observedGeneration !== undefined,
        30_000,
      );
      await waitForRuns(env, 3, async () => {
        assert.equal(latestDrift(repo, env)?.state, "success", latestDrift(repo, env)?.description);
        assert.equal(await metric("ferry_drifted_objects", env), 0);
      });
      assert.deepEqual(
        driftStatuses(repo, env).filter((s) => s.state !== "success"),
        [],
        "never a failing drift status",
      );
      assert.equal((await deployment(repo))?.spec.replicas, 3, "the autoscaler's replicas stay");
    });

    test("no false drift from a mutating admission policy that adds a label and a data key to what Ferry applies", async () => {
      const env = "mutated";
      const repo = await reconciledRepo(env);
      // A real in-server mutation (MutatingAdmissionPolicy, CEL) on this test's namespace only, in place before the release.
      const name = `inject-${repo.namespace}`;
      const policy = {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "MutatingAdmissionPolicy",
        metadata: { name },
        spec: {
          matchConstraints: {
            resourceRules: [
              { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["configmaps"] },
            ],
          },
          failurePolicy: "Fail",
          reinvocationPolicy: "Never",
          mutations: [
            {
              patchType: "ApplyConfiguration",
              applyConfiguration: {
                expression:
                  'Object{metadata: Object.metadata{labels: {"injected-by": "policy"}}, data: {"injected": "yes"}}',
              },
            },
          ],
        },
      };
      const binding = {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "MutatingAdmissionPolicyBinding",
        metadata: { name },
        spec: {
          policyName: name,
          matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": repo.namespace } } },
        },
      };
      await objects().create(policy);
      await objects().create(binding);
      try {
        // The policy takes effect once the API server's informer has it: a probe ConfigMap shows when.
        const probeNs = { apiVersion: "v1", kind: "Namespace", metadata: { name: repo.namespace } };
        await objects().create(probeNs);
        await waitUntil(
          "the mutating policy never took effect",
          async () => {
            const probe = {
              apiVersion: "v1",
              kind: "ConfigMap",
              metadata: { name: "probe", namespace: repo.namespace },
            };
            const made = (await objects().create(probe, undefined, "All")) as { data?: Record<string, string> };
            return made.data?.injected === "yes";
          },
          30_000,
          250,
        );
        await deploy(repo, env, { "deploy/cm.yaml": configMapYaml("flags", { a: "1" }) });
        const live = await configMap(repo, "flags");
        assert.deepEqual(live, { a: "1", injected: "yes" }, "the policy mutated what Ferry applied");
        await waitForRuns(env, 3, async () => {
          assert.equal(latestDrift(repo, env)?.state, "success", latestDrift(repo, env)?.description);
          assert.equal(await metric("ferry_drifted_objects", env), 0);
        });
        assert.deepEqual(
          driftStatuses(repo, env).filter((s) => s.state !== "success"),
          [],
          "never a failing drift status",
        );
      } finally {
        await objects().delete(binding);
        await objects().delete(policy);
      }
    });

    test("turning drift checks off (drift: ignore) closes the open drift issue and clears the failing status", async () => {
      const env = "turned-off";
      const repo = await reconciledRepo(env);
      await deploy(repo, env, { "deploy/cm.yaml": configMapYaml("flags", { a: "1" }) });
      await waitForDrift(repo, env, "success", /^in sync/);
      await editByHand(
        h.kc,
        { apiVersion: "v1", kind: "ConfigMap", namespace: repo.namespace, name: "flags" },
        { data: { a: "2" } },
      );
      await waitForDrift(repo, env, "failure", /^1 object drifted/);
      await waitUntil("no drift issue", () => h.forge.issues(repo.fullName).some((i) => i.state === "open"), 30_000);
      const config = stringify({
        version: 1,
        environments: [
          {
            name: env,
            branch: "main",
            path: "deploy",
            cluster: TEST_CLUSTER,
            namespace: repo.namespace,
            wait: false,
            reconcile: { interval: "1s", drift: "ignore" },
          },
        ],
      });
      const merge = await deploy(repo, env, { ".ferry.yml": config });
      await waitUntil(
        "the drift issue was never closed",
        () => h.forge.issues(repo.fullName).every((i) => i.state === "closed"),
        30_000,
      );
      assert.match(h.forge.issues(repo.fullName)[0]?.comments.at(-1) ?? "", /^Drift checks are off for turned-off/);
      await waitForDrift(repo, env, "success", /^drift checks off \(reconcile\.drift: ignore\)$/);
      assert.equal(latestDrift(repo, env)?.state, "success");
      assert.ok(
        driftStatuses(repo, env, merge.sha).some((s) => s.description.startsWith("drift checks off")),
        "said on the released commit",
      );
      // Said once: later runs take nothing back again.
      const said = driftStatuses(repo, env).length;
      await waitForRuns(env, 2, () => undefined);
      assert.equal(driftStatuses(repo, env).length, said);
    });

    test("drift found re-plans the open changes into the branch, so their plans describe the cluster as it is", async () => {
      const env = "replan";
      const repo = await reconciledRepo(env);
      const merged = await h.merge(repo, { "deploy/settings.yaml": configMapYaml("settings", { v: "one" }) });
      await h.deliver(merged.delivery);
      await h.finalStatus(repo, merged.sha, `ferry/deploy/${env}`);
      const pr = await h.openPullRequest(repo, { "deploy/settings.yaml": configMapYaml("settings", { v: "two" }) });
      await h.deliver(pr.delivery);
      await h.comments(repo, pr.number, /- {2}v: one\n\+ {2}v: two/, 60_000);

      await editByHand(
        h.kc,
        { apiVersion: "v1", kind: "ConfigMap", namespace: repo.namespace, name: "settings" },
        { data: { v: "nine" } },
      );
      await h.comments(repo, pr.number, /- {2}v: nine\n\+ {2}v: two/, 60_000);
    });

    test("a merge whose webhook never came is deployed by the next reconcile, saying so", async () => {
      const env = "lost";
      const repo = await reconciledRepo(env);
      await deploy(repo, env, { "deploy/cm.yaml": configMapYaml("flags", { v: "1" }) });
      const lost = await h.merge(repo, { "deploy/cm.yaml": configMapYaml("flags", { v: "2" }) });
      const final = (await h.finalStatus(repo, lost.sha, `ferry/deploy/${env}`, 60_000)).at(-1);
      assert.equal(final?.state, "success");
      assert.match(
        final?.description ?? "",
        new RegExp(`^deployed by reconcile: no webhook was received for ${lost.sha.slice(0, 7)}: \\+0 ~1 −0`),
      );
      assert.equal((await configMap(repo, "flags"))?.v, "2");
      assert.ok(((await metric("ferry_reconcile_catch_up_deploys_total", env)) ?? 0) >= 1);
      // Its webhook, arriving late, queues nothing new: the deploy job's id is the same.
      assert.equal((await h.deliver(lost.delivery)).status, 202);
    });

    test("a webhook-driven newer release racing a reconcile's catch-up never leaves an older commit on the cluster", async () => {
      const env = "race";
      const repo = await reconciledRepo(env);
      await deploy(repo, env, { "deploy/cm.yaml": configMapYaml("flags", { v: "1" }) });
      const older = await h.merge(repo, { "deploy/cm.yaml": configMapYaml("flags", { v: "2" }) });
      // The reconcile sees the lost merge and queues it; the newer merge's webhook arrives meanwhile.
      await waitUntil(
        "the reconcile never queued the lost merge",
        () => h.statuses(repo, older.sha).some((s) => s.context === `ferry/deploy/${env}`),
        30_000,
      );
      const newer = await h.merge(repo, { "deploy/cm.yaml": configMapYaml("flags", { v: "3" }) });
      await h.deliver(newer.delivery);
      await h.deliver(older.delivery);
      await h.finalStatus(repo, newer.sha, `ferry/deploy/${env}`);
      await h.finalStatus(repo, older.sha, `ferry/deploy/${env}`);
      await waitForRuns(env, 2, async () => {
        assert.equal((await configMap(repo, "flags"))?.v, "3", "the newest commit stays on the cluster");
      });
      assert.ok(driftStatuses(repo, env, newer.sha).length > 0, "drift is reported on the newest release");
    });

    test("a deploy schedules a reconcile per environment and cluster, and the next deploy removes those the head no longer targets", async () => {
      const repo = await h.createRepo({
        environments: (namespace) =>
          ["keep", "drop"].map((name) => ({
            name,
            branch: "main",
            path: "deploy",
            cluster: TEST_CLUSTER,
            namespace: `${namespace}-${name}`,
            wait: false,
            reconcile: { interval: "1s" },
          })),
      });
      await deploy(repo, "keep", { "deploy/cm.yaml": configMapYaml("flags", { v: "1" }) });
      const redis = new Redis(h.redisUrl, { maxRetriesPerRequest: null });
      const queue = new Queue<ReconcileJobData>("ferry-reconcile", { connection: redis });
      try {
        const scheduled = async () =>
          (await queue.getJobSchedulers(0, -1))
            .map((s) => s.template?.data)
            .filter((d) => d?.repo.fullName === repo.fullName);
        assert.deepEqual((await scheduled()).map((d) => [d?.environment, d?.cluster, d?.everyMs]).sort(), [
          ["drop", TEST_CLUSTER, 2000],
          ["keep", TEST_CLUSTER, 2000],
        ]);
        const config = stringify({
          version: 1,
          environments: [
            {
              name: "keep",
              branch: "main",
              path: "deploy",
              cluster: TEST_CLUSTER,
              namespace: `${repo.namespace}-keep`,
              wait: false,
              reconcile: { interval: "1s", drift: "heal" },
            },
          ],
        });
        await deploy(repo, "keep", { ".ferry.yml": config, "deploy/cm.yaml": configMapYaml("flags", { v: "2" }) });
        assert.deepEqual(
          (await scheduled()).map((d) => [d?.environment, d?.drift]),
          [["keep", "heal"]],
          "drop's scheduler is gone; keep's carries the head's settings",
        );
      } finally {
        await queue.close();
        redis.disconnect();
      }
    });

    test("reconcile.watch with drift: ignore is refused with a clear error, and an interval below the server's floor is raised to it", async () => {
      const repo = await h.createRepo({
        environment: { name: "watching", wait: false, reconcile: { watch: true, drift: "ignore" } },
      });
      const merge = await h.merge(repo, { "deploy/cm.yaml": configMapYaml("flags", { v: "1" }) });
      await h.deliver(merge.delivery);
      const final = (await h.finalStatus(repo, merge.sha, "ferry/deploy")).at(-1);
      assert.equal(final?.state, "failure");
      assert.match(
        final?.description ?? "",
        /environments\.0\.reconcile\.watch: reconcile\.watch looks for drift, which drift: ignore turns off/,
      );
      const floor = await reconciledRepo("floor");
      await deploy(floor, "floor", { "deploy/cm.yaml": configMapYaml("flags", { v: "1" }) });
      const raised = h.logLines.find(
        (l) => l.includes("below the server's reconcile.minInterval") && l.includes('"environment":"floor"'),
      );
      assert.ok(raised, "the raised interval is logged");
      assert.match(raised, /"asked":"1s".*"floor":"2s"/);
    });
  });

/** Two real API servers of the run's fleet, both in region eu: a fleet environment's drift is reported across them. */
for (const forge of FORGES)
  describe(`drift of a fleet (${forge})`, () => {
    let h: FerryHarness;
    let clusters: Array<{ name: string; kc: KubeConfig }>;
    before(async () => {
      const contexts = testFleetContexts();
      assert.ok(
        contexts.length >= 2,
        `the run's control plane has ${contexts.length} clusters; this suite needs 2 (FERRY_TEST_CLUSTERS=2)`,
      );
      clusters = contexts
        .slice(0, 2)
        .map((context, i) => ({ name: `drift-${i}`, context, kc: testKubeConfigFor(context) }));
      h = await FerryHarness.start(
        forge,
        {},
        {
          serverConfig: {
            clusters: contexts.slice(0, 2).map((context, i) => ({
              name: `drift-${i}`,
              context,
              kubeconfig: testKubeConfigPath(),
              labels: { region: "eu" },
            })),
            policy: [{ repositories: ["acme/*"], clusters: ["*"], namespaces: ["e2e-*"], clusterScopedKinds: [] }],
            reconcile: { minInterval: "1s" },
          },
        },
      );
    });
    after(async () => h.close());

    test("the status fails while any cluster drifted, naming how many and the first; /ferry heal mends that one", async () => {
      const repo = await h.createRepo({
        environments: (namespace) => [
          {
            name: "fleet",
            branch: "main",
            path: "deploy",
            clusters: { matchLabels: { region: "eu" } },
            namespace,
            wait: false,
            reconcile: { interval: "1s" },
          },
        ],
      });
      const merge = await h.merge(repo, { "deploy/cm.yaml": configMapYaml("flags", { v: "1" }) });
      await h.deliver(merge.delivery);
      assert.equal((await h.finalStatus(repo, merge.sha, "ferry/deploy/fleet")).at(-1)?.state, "success");
      const latest = () =>
        h
          .statuses(repo)
          .filter((s) => s.context === "ferry/drift/fleet")
          .at(-1);
      await waitUntil(
        () => `never in sync on both; latest ${JSON.stringify(latest())}`,
        () => /^in sync on 2 clusters \(checked/.test(latest()?.description ?? ""),
        60_000,
      );

      const [, second] = clusters;
      assert.ok(second);
      await editByHand(
        second.kc,
        { apiVersion: "v1", kind: "ConfigMap", namespace: repo.namespace, name: "flags" },
        { data: { v: "2" } },
      );
      const drifted = new RegExp(
        `^1 of 2 clusters drifted; drift-1: 1 object drifted: ConfigMap ${repo.namespace}/flags data\\.v "1"→"2" by kubectl-edit$`,
      );
      await waitUntil(
        () => `no fleet drift; latest ${JSON.stringify(latest())}`,
        () => latest()?.state === "failure" && drifted.test(latest()?.description ?? ""),
        60_000,
      );

      h.forge.setAccess(repo.fullName, "lead", "write");
      await h.deliver(h.comment(repo, { number: merge.number } as never, "lead", "/ferry heal fleet"));
      const answer = (await h.comments(repo, merge.number, /healed drift/)).find((b) => /healed drift/.test(b)) ?? "";
      assert.match(answer, /\*\*fleet\*\* on drift-0: in sync, nothing to heal/);
      assert.match(
        answer,
        new RegExp(`\\*\\*fleet\\*\\* on drift-1: restored 1 object \\(\`ConfigMap ${repo.namespace}/flags\`\\)`),
      );
      await waitUntil(
        () => `never back in sync; latest ${JSON.stringify(latest())}`,
        () => latest()?.state === "success" && /^in sync on 2 clusters/.test(latest()?.description ?? ""),
        60_000,
      );
    });
  });
