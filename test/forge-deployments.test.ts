/**
 * The forge's deployment records, on both forges through their simulators over real HTTP: GitHub's
 * deployments and deployment statuses, GitLab's environments and deployments. A merge makes one
 * deployment of the environment at the merged commit whose states follow the release; redelivering
 * the merge (and its push) makes no second one; a superseded release ends inactive (GitLab: canceled)
 * with the reason; a release whose workloads fail ends failed with the reason; and a forge that
 * refuses the deployment writes leaves the release alone.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { before, describe, test } from "node:test";
import type { SeenDeployment } from "./support/forge-doubles/forge-double.js";
import { configMapYaml, FORGES, type TestRepo } from "./support/ferry-harness.js";
import { ensureFakeNodes } from "./support/kwok.js";
import { parsePrometheusText, sampleValue } from "./support/prometheus-text.js";
import { suiteHarness } from "./support/suite-harness.js";
import { waitUntil } from "./support/wait-until.js";
import { deploymentYaml } from "./support/workloads.js";

const SETTLE_MS = 120_000;
const short = (sha: string) => sha.slice(0, 7);
const URL_OF_STAGING = "https://staging.shop.example.com";

for (const forge of FORGES)
  describe(`deployment records on the forge (${forge})`, () => {
    const suite = suiteHarness(forge);
    before(async () => ensureFakeNodes(suite.h.kc));

    /** The deployments of the repository's staging environment now. */
    const deployments = (repo: TestRepo): SeenDeployment[] => suite.h.forge.deployments(repo.fullName, "staging");
    /** Waits until the deployment of `sha` reached a state for which `done` holds, and returns it. */
    const deploymentOf = async (repo: TestRepo, sha: string, done: (states: string[]) => boolean) => {
      await waitUntil(
        () => `no finished deployment of ${short(sha)}: ${JSON.stringify(deployments(repo))}`,
        () => deployments(repo).some((d) => d.sha === sha && done(d.states)),
        SETTLE_MS,
        50,
      );
      return deployments(repo).filter((d) => d.sha === sha);
    };
    const finished = (states: string[]) =>
      ["success", "failure", "inactive", "failed", "canceled"].includes(states.at(-1) ?? "");
    /** The states a release that succeeds goes through, in the forge's words. */
    const released = forge === "github" ? ["queued", "in_progress", "success"] : ["running", "success"];

    test("a merge makes one deployment of the environment at the commit, queued → in progress → success, with the rollout page and the environment's URL", async () => {
      const repo = await suite.h.createRepo({
        environment: { deployment: { url: URL_OF_STAGING, production: true } },
      });
      const merge = await suite.h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
      assert.equal((await suite.h.deliver(merge.delivery)).status, 202);
      const statuses = await suite.h.finalStatus(repo, merge.sha);
      assert.equal(statuses.at(-1)?.state, "success");
      const [deployment, ...others] = await deploymentOf(repo, merge.sha, finished);
      assert.ok(deployment);
      assert.deepEqual(others, [], "one deployment");
      assert.deepEqual(deployment.states, released);
      assert.equal(deployment.environmentUrl, URL_OF_STAGING);
      assert.equal(deployment.production, true);
      assert.deepEqual(suite.h.forge.refusedTransitions(), []);
      const rolloutPage = statuses.find((s) => s.targetUrl?.includes("/rollouts/"))?.targetUrl;
      if (forge === "github") {
        assert.equal(deployment.ref, merge.sha, "GitHub's ref is the sha: nothing can be auto-merged into it");
        assert.equal(deployment.creator, "ferry[bot]");
        assert.equal(deployment.descriptions.at(-1), statuses.at(-1)?.description);
        const rolloutId = (deployment.payload as { rolloutId?: string }).rolloutId;
        assert.ok(rolloutId, JSON.stringify(deployment.payload));
        for (const url of deployment.logUrls) assert.match(url, new RegExp(`/rollouts/${rolloutId}$`));
        if (rolloutPage !== undefined) assert.ok(rolloutPage.endsWith(rolloutId));
      } else {
        assert.equal(deployment.ref, "main", "GitLab's ref is the branch");
      }

      // The next release of the environment succeeds, and the older deployment is no longer the live one.
      const next = await suite.h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "2" }) });
      await suite.h.deliver(next.delivery);
      const [newer] = await deploymentOf(repo, next.sha, finished);
      assert.deepEqual(newer?.states, released);
      const [older] = deployments(repo).filter((d) => d.sha === merge.sha);
      if (forge === "github") {
        // A production environment: GitHub's auto_inactive leaves it, so Ferry marks it inactive itself.
        await waitUntil(
          () => `the older deployment stayed ${JSON.stringify(deployments(repo))}`,
          () =>
            deployments(repo)
              .find((d) => d.sha === merge.sha)
              ?.states.at(-1) === "inactive",
          SETTLE_MS,
        );
        const retired = deployments(repo).find((d) => d.sha === merge.sha);
        assert.equal(retired?.descriptions.at(-1), `replaced by ${short(next.sha)}`);
      } else {
        assert.deepEqual(older?.states, released, "a finished GitLab deployment stays as it ended");
      }
    });

    test("a redelivered merge, and the push of the same commit, make no second deployment", async () => {
      const repo = await suite.h.createRepo();
      const merge = await suite.h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
      await suite.h.deliver(merge.delivery);
      const [first] = await deploymentOf(repo, merge.sha, finished);
      const parent = await repo.git.resolve(`${merge.sha}^`);
      assert.ok(parent);
      await suite.h.deliver(merge.delivery, randomUUID());
      await suite.h.deliver(suite.h.push(repo, parent, merge.sha), randomUUID());
      // The jobs the deliveries queued (if any) have run: the event that would have made a second one.
      await suite.jobs.settled(SETTLE_MS);
      assert.deepEqual(
        deployments(repo).map((d) => [d.id, d.sha, d.states]),
        [[first?.id, merge.sha, released]],
      );
    });

    test("a release superseded by a newer merge ends inactive (GitLab: canceled), saying by which commit", async () => {
      const repo = await suite.h.createRepo({ environment: { wait: { timeout: "5m" } } });
      const older = await suite.h.merge(repo, { "deploy/web.yaml": deploymentYaml("web", { nodes: "none" }) });
      await suite.h.deliver(older.delivery);
      // The older release is applied and waits for a Deployment that will never be available.
      await waitUntil(
        "the older release applied its Deployment",
        async () => (await suite.h.list("apps/v1", "Deployment", repo.namespace)).has("web"),
        SETTLE_MS,
        50,
      );
      const newer = await suite.h.merge(repo, { "deploy/web.yaml": deploymentYaml("web") });
      await suite.h.deliver(newer.delivery);
      const [superseded] = await deploymentOf(repo, older.sha, finished);
      const [current] = await deploymentOf(repo, newer.sha, finished);
      assert.deepEqual(current?.states, released);
      if (forge === "github") {
        assert.deepEqual(superseded?.states, ["queued", "in_progress", "inactive"]);
        assert.match(superseded?.descriptions.at(-1) ?? "", new RegExp(`^superseded by ${short(newer.sha)}`));
      } else {
        assert.deepEqual(superseded?.states, ["running", "canceled"]);
      }
      assert.deepEqual(suite.h.forge.refusedTransitions(), []);
    });

    test("a release whose workloads fail ends failed, with the reason", async () => {
      const repo = await suite.h.createRepo({ environment: { wait: { timeout: "30s" } } });
      const merge = await suite.h.merge(repo, {
        "deploy/web.yaml": deploymentYaml("web", { nodes: "none", progressDeadlineSeconds: 5 }),
      });
      await suite.h.deliver(merge.delivery);
      const statuses = await suite.h.finalStatus(repo, merge.sha, undefined, SETTLE_MS);
      const final = statuses.at(-1);
      assert.equal(final?.state, "failure");
      assert.match(final?.description ?? "", /ProgressDeadlineExceeded/);
      const [deployment] = await deploymentOf(repo, merge.sha, finished);
      if (forge === "github") {
        assert.deepEqual(deployment?.states, ["queued", "in_progress", "failure"]);
        assert.equal(deployment?.descriptions.at(-1), final?.description, "the status's reason");
      } else {
        assert.deepEqual(deployment?.states, ["running", "failed"]);
      }
    });

    test("a forge that refuses the deployment writes leaves the release alone, logs it and counts it", async () => {
      const repo = await suite.h.createRepo();
      suite.h.forge.denyDeployments(repo.fullName);
      const metric = async () =>
        sampleValue(parsePrometheusText(await suite.h.ferry.metrics.text()), "ferry_report_failures_total", {
          forge,
          kind: "deployment",
        }) ?? 0;
      const refusedBefore = await metric();
      const merge = await suite.h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
      await suite.h.deliver(merge.delivery);
      const statuses = await suite.h.finalStatus(repo, merge.sha, undefined, SETTLE_MS);
      assert.equal(statuses.at(-1)?.state, "success", "the release and its status are untouched");
      await suite.jobs.settled(SETTLE_MS);
      assert.deepEqual(deployments(repo), [], "the forge made no deployment");
      assert.ok((await metric()) > refusedBefore, "counted in ferry_report_failures_total{kind=deployment}");
      assert.ok(
        suite.h.logLines.some((line) => line.includes("the forge refused the") && line.includes(short(merge.sha))),
        "logged",
      );
    });
  });
