import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ApiextensionsV1Api, CoreV1Api, KubernetesObjectApi, type KubeConfig } from "@kubernetes/client-node";
import { stringify } from "yaml";
import { AuditReader } from "./support/audit-records.js";
import type { SeenStatus } from "./support/forge-doubles/forge-double.js";
import { configMapYaml, FerryHarness, FORGES, type TestRepo } from "./support/ferry-harness.js";
import { editByHand, testFleetContexts, testKubeConfigFor, testKubeConfigPath } from "./support/kube.js";
import { waitUntil } from "./support/wait-until.js";

/**
 * Six real API servers (one etcd, distinct prefixes): fleet-0 is the canary ring, fleet-1..3 are in
 * eu, fleet-4..5 in us. Each test works in namespaces of its own on every cluster.
 */
const CLUSTERS = [
  { name: "fleet-0", labels: { ring: "canary", region: "eu" } },
  { name: "fleet-1", labels: { region: "eu" } },
  { name: "fleet-2", labels: { region: "eu" } },
  { name: "fleet-3", labels: { region: "eu" } },
  { name: "fleet-4", labels: { region: "us" } },
  { name: "fleet-5", labels: { region: "us" } },
];

const WAVES = [
  { name: "canary", clusters: { matchLabels: { ring: "canary" } }, maxParallel: 1 },
  { name: "eu", clusters: { matchLabels: { region: "eu" } }, maxParallel: 2 },
  { name: "rest" },
];

/** A CRD of kind Widget (no fields beyond metadata), installed on some clusters so that a release fails on the others. */
const WIDGET_CRD = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "widgets.fleet.ferry.dev" },
  spec: {
    group: "fleet.ferry.dev",
    scope: "Namespaced",
    names: { plural: "widgets", singular: "widget", kind: "Widget" },
    versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object" } } }],
  },
};

const widgetYaml = stringify({ apiVersion: "fleet.ferry.dev/v1", kind: "Widget", metadata: { name: "w" } });

const final = (s: SeenStatus) => s.state === "success" || s.state === "failure";

for (const forge of FORGES)
  describe(`fleet rollouts in waves (${forge})`, () => {
    let h: FerryHarness;
    let kcs: Map<string, KubeConfig>;
    let audit: AuditReader;
    before(async () => {
      const contexts = testFleetContexts();
      assert.ok(
        contexts.length >= CLUSTERS.length,
        `the run's control plane has ${contexts.length} clusters; the fleet suite needs ${CLUSTERS.length}`,
      );
      kcs = new Map(CLUSTERS.map((c, i) => [c.name, testKubeConfigFor(contexts[i] ?? "")]));
      h = await FerryHarness.start(
        forge,
        {},
        {
          serverConfig: {
            clusters: CLUSTERS.map((c, i) => ({
              name: c.name,
              context: contexts[i],
              kubeconfig: testKubeConfigPath(),
              labels: c.labels,
            })),
            policy: [{ repositories: ["acme/*"], clusters: ["*"], namespaces: ["e2e-*"], clusterScopedKinds: [] }],
          },
        },
      );
      audit = AuditReader.open(h.redisTarget);
      // Widgets are served everywhere but on the canary, whose releases of one then fail validation.
      for (const c of CLUSTERS.slice(1)) {
        const kc = kcs.get(c.name) as KubeConfig;
        await kc
          .makeApiClient(ApiextensionsV1Api)
          .createCustomResourceDefinition({ body: WIDGET_CRD })
          .catch((e: { code?: number }) => {
            if (e.code !== 409) throw e;
          });
        const api = KubernetesObjectApi.makeApiClient(kc);
        await waitUntil(
          () => `widgets never served on ${c.name}`,
          () =>
            api.list("fleet.ferry.dev/v1", "Widget", "default").then(
              () => true,
              () => false,
            ),
          60_000,
          200,
        );
      }
    });
    after(async () => {
      audit?.close();
      await h.close();
    });

    const fleetRepo = (extra: Record<string, unknown> = {}, waves: unknown[] = WAVES) =>
      h.createRepo({
        environments: (namespace) => [
          {
            name: "production",
            branch: "main",
            path: "deploy",
            clusters: { matchExpressions: [{ key: "region", operator: "Exists" }] },
            namespace,
            wait: false,
            rollout: { waves },
            ...extra,
          },
        ],
      });

    const configMapOn = async (cluster: string, namespace: string, name: string) =>
      KubernetesObjectApi.makeApiClient(kcs.get(cluster) as KubeConfig)
        .read({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace } })
        .then(
          (o) => o as { metadata?: { creationTimestamp?: Date }; data?: Record<string, string> },
          () => undefined,
        );
    const namespaceOn = (cluster: string, name: string) =>
      (kcs.get(cluster) as KubeConfig)
        .makeApiClient(CoreV1Api)
        .readNamespace({ name })
        .then(
          () => true,
          () => false,
        );
    const rolloutJson = async (statuses: SeenStatus[]) => {
      const url = statuses.find((s) => s.targetUrl)?.targetUrl ?? "";
      assert.match(url, /\/rollouts\/[A-Za-z0-9_-]{22}$/);
      const res = await h.page(`${new URL(url).pathname}.json`);
      assert.equal(res.status, 200);
      return (await res.json()) as {
        rollout: { state: string };
        clusters: Array<{ cluster: string; wave: number; state: string; startedAt?: number; finishedAt?: number }>;
      };
    };
    /** Waits until the rollout of `sha` (found through its status link) is in `state`. */
    const rolloutReaches = async (repo: TestRepo, sha: string, state: string) => {
      await waitUntil(
        () => `the rollout of ${sha.slice(0, 7)} never reached ${state}`,
        async () => {
          const statuses = h.statuses(repo, sha).filter((s) => s.context === "ferry/deploy/production");
          if (!statuses.some((s) => s.targetUrl)) return false;
          return (await rolloutJson(statuses)).rollout.state === state;
        },
        60_000,
        200,
      );
    };
    const finalStatus = (repo: TestRepo, sha: string) => h.finalStatus(repo, sha, "ferry/deploy/production", 120_000);

    test("canary → eu (2 at a time) → rest: every cluster released in wave order, one status and one comment for the rollout", async () => {
      const repo = await fleetRepo();
      const merge = await h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
      await h.deliver(merge.delivery);
      const statuses = await finalStatus(repo, merge.sha);
      const last = statuses.at(-1);
      assert.equal(last?.state, "success", JSON.stringify(statuses));
      assert.match(last?.description ?? "", /to 6\/6 clusters in 3 waves/);
      assert.ok(
        statuses.some((s) => /^wave [12]\/3/.test(s.description)),
        JSON.stringify(statuses.map((s) => s.description)),
      );
      assert.equal(statuses.filter(final).length, 1);

      // The API servers' own clocks: nothing of a later wave was created before an earlier wave's objects.
      const created = new Map<string, number>();
      for (const c of CLUSTERS) {
        const cm = await configMapOn(c.name, repo.namespace, "a");
        assert.deepEqual(cm?.data, { v: "1" }, `ConfigMap a on ${c.name}`);
        created.set(c.name, new Date(cm?.metadata?.creationTimestamp ?? 0).getTime());
      }
      const page = await rolloutJson(statuses);
      assert.equal(page.rollout.state, "succeeded");
      const byWave = [0, 1, 2].map((w) => page.clusters.filter((c) => c.wave === w));
      assert.deepEqual(
        byWave.map((w) => w.map((c) => c.cluster).sort()),
        [["fleet-0"], ["fleet-1", "fleet-2", "fleet-3"], ["fleet-4", "fleet-5"]],
      );
      for (let w = 1; w < 3; w++) {
        const earlierDone = Math.max(...(byWave[w - 1] ?? []).map((c) => c.finishedAt ?? Infinity));
        for (const c of byWave[w] ?? []) {
          assert.ok((c.startedAt ?? 0) >= earlierDone, `${c.cluster} started before wave ${w} ended`);
          assert.ok(
            (created.get(c.cluster) ?? 0) >= Math.max(...(byWave[w - 1] ?? []).map((e) => created.get(e.cluster) ?? 0)),
            `${c.cluster} created before the previous wave's objects`,
          );
        }
      }
      // eu releases at most two clusters at once.
      const eu = byWave[1] ?? [];
      for (const c of eu) {
        const overlapping = eu.filter(
          (o) => (o.startedAt ?? 0) < (c.finishedAt ?? 0) && (o.finishedAt ?? 0) > (c.startedAt ?? 0),
        );
        assert.ok(overlapping.length <= 2, `${overlapping.length} eu clusters released at once`);
      }
      const comments = await h.comments(repo, merge.number, /Ferry release/);
      assert.equal(comments.filter((b) => /Ferry release/.test(b)).length, 1);
      await waitUntil(
        () => "the comment never showed the finished rollout",
        () =>
          h
            .rawComments(repo, merge.number)
            .some(
              (c) =>
                /production/.test(c.body) &&
                /canary/.test(c.body) &&
                /rest/.test(c.body) &&
                /succeeded|deployed/.test(c.body),
            ),
        30_000,
        100,
      );
    });

    test("a fleet's plan shows each distinct diff once with its clusters, and a cluster apart where its live state differs", async () => {
      const repo = await fleetRepo();
      const merge = await h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
      await h.deliver(merge.delivery);
      assert.equal((await finalStatus(repo, merge.sha)).at(-1)?.state, "success");
      // Someone edits fleet-5's copy by hand: its plan differs from the other five's.
      await editByHand(
        kcs.get("fleet-5") as KubeConfig,
        { apiVersion: "v1", kind: "ConfigMap", namespace: repo.namespace, name: "a" },
        { data: { v: "9" } },
        { manager: "by-hand" },
      );
      const pr = await h.openPullRequest(repo, { "deploy/a.yaml": configMapYaml("a", { v: "2" }) });
      await h.deliver(pr.delivery);
      const [comment = ""] = await h.comments(repo, pr.number, /Ferry plan/, 60_000);
      assert.match(
        comment,
        /\| production \| fleet-0, fleet-1, fleet-2, fleet-3, fleet-4 \| 0 \| 1 \| 0 \| 1 to change \|/,
        comment,
      );
      assert.match(comment, /\| production \| fleet-5 \| 0 \| 1 \| 0 \| 1 to change \|/, comment);
      assert.equal(comment.match(/\| production \|/g)?.length, 2, comment);
    });

    test("a failure in the canary halts the rollout: later waves are never touched; with failureBudget 1 it goes on", async () => {
      const repo = await fleetRepo();
      const merge = await h.merge(repo, { "deploy/w.yaml": widgetYaml });
      await h.deliver(merge.delivery);
      const statuses = await finalStatus(repo, merge.sha);
      assert.equal(statuses.at(-1)?.state, "failure", JSON.stringify(statuses));
      assert.match(statuses.at(-1)?.description ?? "", /halted in wave 1\/3 \(canary\)/);
      for (const c of CLUSTERS.slice(1))
        assert.equal(await namespaceOn(c.name, repo.namespace), false, `${c.name} was touched`);
      const page = await rolloutJson(statuses);
      assert.deepEqual(
        page.clusters
          .filter((c) => c.state === "skipped")
          .map((c) => c.cluster)
          .sort(),
        CLUSTERS.slice(1).map((c) => c.name),
      );

      const tolerant = await fleetRepo({}, [{ ...WAVES[0], failureBudget: 1 }, WAVES[1], WAVES[2]]);
      const again = await h.merge(tolerant, { "deploy/w.yaml": widgetYaml });
      await h.deliver(again.delivery);
      const tolerated = await finalStatus(tolerant, again.sha);
      assert.equal(tolerated.at(-1)?.state, "success", JSON.stringify(tolerated));
      assert.match(tolerated.at(-1)?.description ?? "", /5\/6 clusters.*1 failed/);
      for (const c of CLUSTERS.slice(1))
        assert.equal(await namespaceOn(c.name, tolerant.namespace), true, `${c.name} was not released`);
    });

    test("approval: the rollout waits after the canary until /ferry continue; /ferry abort halts another", async () => {
      const repo = await fleetRepo({}, [{ ...WAVES[0], approval: true }, WAVES[1], WAVES[2]]);
      const merge = await h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
      await h.deliver(merge.delivery);
      await rolloutReaches(repo, merge.sha, "awaiting-approval");
      assert.equal(await namespaceOn("fleet-1", repo.namespace), false, "eu started before the approval");
      h.forge.setAccess(repo.fullName, "lead", "write");
      await h.deliver(h.comment(repo, { number: merge.number } as never, "lead", "/ferry continue production"));
      const statuses = await finalStatus(repo, merge.sha);
      assert.equal(statuses.at(-1)?.state, "success", JSON.stringify(statuses));
      for (const c of CLUSTERS) assert.equal(await namespaceOn(c.name, repo.namespace), true);

      const halted = await fleetRepo({}, [{ ...WAVES[0], approval: true }, WAVES[1], WAVES[2]]);
      const second = await h.merge(halted, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
      await h.deliver(second.delivery);
      await rolloutReaches(halted, second.sha, "awaiting-approval");
      h.forge.setAccess(halted.fullName, "lead", "write");
      await h.deliver(h.comment(halted, { number: second.number } as never, "lead", "/ferry abort"));
      const aborted = await finalStatus(halted, second.sha);
      assert.equal(aborted.at(-1)?.state, "failure");
      assert.match(aborted.at(-1)?.description ?? "", /aborted by @lead/);
      for (const c of CLUSTERS.slice(1))
        assert.equal(await namespaceOn(c.name, halted.namespace), false, `${c.name} was touched after the abort`);

      // The approval and the abort are audit records by the commenter; each rollout's end is one too.
      const approved = await audit.records(forge, repo.fullName, "production");
      assert.deepEqual(
        approved.filter((r) => r.action === "approval").map((r) => [r.actor, r.command, r.sha, r.outcome, r.reason]),
        [["lead", "/ferry continue production", merge.sha, "approved", "wave 2/3 (eu) starts"]],
      );
      assert.equal(approved.filter((r) => r.action === "release").length, CLUSTERS.length);
      assert.deepEqual(
        approved.filter((r) => r.action === "rollout").map((r) => [r.outcome, r.reason]),
        [["succeeded", "6 clusters: 6 released"]],
      );
      const aborts = await audit.records(forge, halted.fullName, "production");
      assert.deepEqual(
        aborts.filter((r) => r.action === "abort").map((r) => [r.actor, r.command, r.sha, r.outcome]),
        [["lead", "/ferry abort", second.sha, "aborted"]],
      );
      assert.deepEqual(
        aborts.filter((r) => r.action === "rollout").map((r) => [r.outcome, r.reason]),
        [["aborted", "aborted by @lead; 6 clusters: 1 released, 5 skipped"]],
      );
    });

    test("pause: the next wave starts when the pause ends, or at once on /ferry continue", async () => {
      const short = await fleetRepo({}, [{ ...WAVES[0], pause: "2s" }, WAVES[1], WAVES[2]]);
      const first = await h.merge(short, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
      await h.deliver(first.delivery);
      await rolloutReaches(short, first.sha, "paused");
      assert.equal(await namespaceOn("fleet-1", short.namespace), false, "eu started during the pause");
      assert.equal((await finalStatus(short, first.sha)).at(-1)?.state, "success");

      const long = await fleetRepo({}, [{ ...WAVES[0], pause: "10m" }, WAVES[1], WAVES[2]]);
      const second = await h.merge(long, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
      await h.deliver(second.delivery);
      await rolloutReaches(long, second.sha, "paused");
      h.forge.setAccess(long.fullName, "lead", "write");
      await h.deliver(h.comment(long, { number: second.number } as never, "lead", "/ferry continue production"));
      assert.equal((await finalStatus(long, second.sha)).at(-1)?.state, "success");
      await h.comments(long, second.number, /continuing the rollout of production: wave 2\/3 \(eu\) starts now/);
    });

    test("after: production waits for staging's release of the same commit, and is not released when staging fails", async () => {
      const environments = (staging: string) => (namespace: string) => [
        {
          name: "staging",
          branch: "main",
          path: staging,
          cluster: "fleet-0",
          namespace: `${namespace}-stg`.slice(0, 63),
          wait: false,
        },
        {
          name: "production",
          branch: "main",
          path: "deploy",
          after: "staging",
          clusters: ["fleet-1", "fleet-2"],
          namespace,
          wait: false,
        },
      ];
      const repo = await h.createRepo({ environments: environments("deploy") });
      const merge = await h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
      await h.deliver(merge.delivery);
      const production = await finalStatus(repo, merge.sha);
      const staging = await h.finalStatus(repo, merge.sha, "ferry/deploy/staging");
      assert.equal(staging.at(-1)?.state, "success");
      assert.equal(production.at(-1)?.state, "success", JSON.stringify(production));
      // A `waiting for staging` status shows only when production's job looks before staging is
      // through (a quick staging release leaves nothing to wait for); that production waits is what
      // the broken staging below shows: it is never released.

      const broken = await h.createRepo({ environments: environments("bad") });
      const bad = await h.merge(broken, { "bad/w.yaml": widgetYaml, "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
      await h.deliver(bad.delivery);
      const blocked = await finalStatus(broken, bad.sha);
      assert.equal(blocked.at(-1)?.state, "failure");
      assert.match(blocked.at(-1)?.description ?? "", /not released: staging did not release/);
      assert.equal(await namespaceOn("fleet-1", broken.namespace), false);
    });

    test("a selector that matches no cluster fails the environment's status with a clear reason", async () => {
      const repo = await h.createRepo({
        environments: (namespace) => [
          {
            name: "production",
            branch: "main",
            path: "deploy",
            clusters: { matchLabels: { region: "mars" } },
            namespace,
          },
        ],
      });
      const merge = await h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
      await h.deliver(merge.delivery);
      const statuses = await finalStatus(repo, merge.sha);
      assert.equal(statuses.at(-1)?.state, "failure");
      assert.match(statuses.at(-1)?.description ?? "", /selects no registered cluster/);
    });

    test("a newer merge while a rollout awaits approval supersedes it: the newer commit starts from wave 1", async () => {
      const repo = await fleetRepo({}, [{ ...WAVES[0], approval: true }, WAVES[1], WAVES[2]]);
      const older = await h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
      await h.deliver(older.delivery);
      await rolloutReaches(repo, older.sha, "awaiting-approval");
      const newer = await h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "2" }) });
      await h.deliver(newer.delivery);
      const olderFinal = (await finalStatus(repo, older.sha)).at(-1);
      assert.equal(olderFinal?.state, "success");
      assert.match(olderFinal?.description ?? "", new RegExp(`^superseded by ${newer.sha.slice(0, 7)}`));
      await rolloutReaches(repo, newer.sha, "awaiting-approval");
      assert.deepEqual((await configMapOn("fleet-0", repo.namespace, "a"))?.data, { v: "2" });
      assert.equal(await namespaceOn("fleet-1", repo.namespace), false, "the newer commit skipped the canary's gate");
    });
  });
