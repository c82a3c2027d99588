/**
 * Reporting when the forge itself refuses, on both forges, through the simulators over real HTTP:
 * a permanent 4xx on Ferry's first read still leaves a failure status (or says why it could not),
 * the forge's words in the log and a failed release or plan in the metrics; the lookup of the change
 * a pushed commit merged is decoration that neither fails nor holds up the release; and statuses are
 * sent beside the release, never in front of it.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Watch } from "@kubernetes/client-node";
import type { SeenStatus } from "./support/forge-doubles/forge-double.js";
import { configMapYaml, FORGES, type TestRepo } from "./support/ferry-harness.js";
import { parsePrometheusText, sampleValue } from "./support/prometheus-text.js";
import type { RequestRecord } from "./support/simulator-faults.js";
import { suiteHarness } from "./support/suite-harness.js";
import { waitUntil } from "./support/wait-until.js";

const SETTLE_MS = 180_000;
const CONTEXT = "ferry/deploy/staging";
/** How long the forge asks Ferry to wait before a call is answered (longer than a release of one ConfigMap takes). */
const FORGE_WAIT_S = 10;

for (const forge of FORGES)
  describe(`reporting when the forge refuses (${forge})`, () => {
    const suite = suiteHarness(forge);
    /** The forge's own words for a refused read, and the body it sends them in. */
    const refusal =
      forge === "github"
        ? {
            words: "Resource not accessible by integration",
            body: { message: "Resource not accessible by integration" },
          }
        : { words: "Forbidden", body: { message: "403 Forbidden" } };
    const forbidden = { status: 403, body: refusal.body };

    /** The value of a metric series now (0 when it has none yet). */
    const metric = async (name: string, labels: Record<string, string>) =>
      sampleValue(parsePrometheusText(await suite.h.ferry.metrics.text()), name, labels) ?? 0;
    /** Job runs of a queue that ended as `result`. */
    const jobs = (queue: string, result: string) => metric("ferry_jobs_total", { queue, result });
    /** Ferry's log lines at error level (or above) holding every one of `words`. */
    const errorLines = (...words: string[]) =>
      suite.h.logLines.filter(
        (line) => (JSON.parse(line) as { level: number }).level >= 50 && words.every((w) => line.includes(w)),
      );
    const deployStatuses = (repo: TestRepo, sha: string, context = CONTEXT) =>
      suite.h.statuses(repo, sha).filter((s) => s.context === context);

    /** Records when the ConfigMap `a` first appears in the repository's namespace. */
    const watchApplied = async (repo: TestRepo) => {
      let at: number | undefined;
      const watch = await new Watch(suite.h.kc).watch(
        `/api/v1/namespaces/${repo.namespace}/configmaps`,
        { fieldSelector: "metadata.name=a" },
        (type: string) => {
          if (type === "ADDED") at ??= Date.now();
        },
        () => undefined,
      );
      return { at: () => at, stop: () => watch.abort() };
    };
    /** The simulator's requests from index `from` on. */
    const requestsSince = (from: number): RequestRecord[] => suite.h.forge.requests().slice(from);

    describe("item 7: a permanent 4xx on the first read", () => {
      test("the branch read refused: a failure status and comment in the forge's words, an error log line, a failed release counted", async () => {
        const repo = await suite.h.createRepo();
        const merge = await suite.h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
        const failedReleases = await metric("ferry_releases_total", { environment: "", cluster: "", result: "failed" });
        const [failedJobs, retriedJobs] = [
          await jobs("ferry-deploy", "failed"),
          await jobs("ferry-deploy", "retrying"),
        ];
        suite.h.forge.failNext({ method: "GET", pathPrefix: suite.h.forge.apiPaths(repo.fullName).branch }, [
          forbidden,
        ]);
        assert.equal((await suite.h.deliver(merge.delivery)).status, 202);

        const statuses = await suite.h.finalStatus(repo, merge.sha, "ferry/deploy", SETTLE_MS);
        assert.equal(statuses.length, 1, JSON.stringify(statuses));
        assert.equal(statuses[0]?.state, "failure");
        assert.match(
          statuses[0]?.description ?? "",
          new RegExp(`^${forge === "github" ? "GitHub" : "GitLab"}: reading branch main: 403 ${refusal.words}`),
        );
        const [comment = ""] = (await suite.h.comments(repo, merge.number, /Ferry release/, SETTLE_MS)).filter((b) =>
          b.includes("Ferry release"),
        );
        assert.match(comment, /Nothing was deployed/);
        assert.ok(comment.includes(`reading branch main: 403 ${refusal.words}`), comment);
        await suite.jobs.settled(SETTLE_MS);
        assert.equal(await jobs("ferry-deploy", "failed"), failedJobs + 1, "the deploy job failed");
        assert.equal(await jobs("ferry-deploy", "retrying"), retriedJobs, "a permanent refusal is not retried");
        assert.equal(
          await metric("ferry_releases_total", { environment: "", cluster: "", result: "failed" }),
          failedReleases + 1,
        );
        assert.ok(
          errorLines(merge.sha, `reading branch main: 403 ${refusal.words}`).length > 0,
          "an error line with the forge's words",
        );
        assert.deepEqual(deployStatuses(repo, merge.sha), [], "no environment status was started");
        assert.equal(await suite.h.namespaceExists(repo.namespace), false, "nothing was applied");
      });

      test("the branch read and the failure status both refused: logged loudly and counted", async () => {
        const repo = await suite.h.createRepo();
        const merge = await suite.h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
        const refusedReports = await metric("ferry_report_failures_total", { forge, kind: "status" });
        const failedJobs = await jobs("ferry-deploy", "failed");
        const paths = suite.h.forge.apiPaths(repo.fullName);
        suite.h.forge.failNext({ method: "GET", pathPrefix: paths.branch }, [forbidden]);
        suite.h.forge.failNext({ method: "POST", pathPrefix: paths.statuses }, [forbidden]);
        assert.equal((await suite.h.deliver(merge.delivery)).status, 202);
        // The job's end is the event that would have set the status.
        await waitUntil(
          "the deploy job failed",
          async () => (await jobs("ferry-deploy", "failed")) === failedJobs + 1,
          SETTLE_MS,
        );
        await suite.jobs.settled(SETTLE_MS);
        assert.deepEqual(suite.h.statuses(repo, merge.sha), [], "the forge refused the status");
        assert.equal(await metric("ferry_report_failures_total", { forge, kind: "status" }), refusedReports + 1);
        assert.ok(
          errorLines(merge.sha, "ferry/deploy", `403 ${refusal.words}`).some((line) => line.includes("status")),
          "the refused status is logged at error level",
        );
        const [comment = ""] = (await suite.h.comments(repo, merge.number, /Ferry release/, SETTLE_MS)).filter((b) =>
          b.includes("Ferry release"),
        );
        assert.ok(
          comment.includes(`reading branch main: 403 ${refusal.words}`),
          "the comment, which the forge allowed, still says why",
        );
      });

      test("a plan whose archive download is refused: the plan's failure status, an error log line, a failed plan counted", async () => {
        const repo = await suite.h.createRepo();
        const pr = await suite.h.openPullRequest(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
        const failedPlans = await metric("ferry_plans_total", { environment: "", cluster: "", result: "failed" });
        suite.h.forge.failNext({ method: "GET", pathPrefix: suite.h.forge.apiPaths(repo.fullName).archive }, [
          forbidden,
        ]);
        assert.equal((await suite.h.deliver(pr.delivery)).status, 202);
        const [status] = await suite.h.finalStatus(repo, pr.headSha, "ferry/plan", SETTLE_MS);
        assert.equal(status?.state, "failure");
        assert.ok(status?.description.includes(`403 ${refusal.words}`), JSON.stringify(status));
        await suite.jobs.settled(SETTLE_MS);
        assert.equal(
          await metric("ferry_plans_total", { environment: "", cluster: "", result: "failed" }),
          failedPlans + 1,
        );
        assert.ok(errorLines(pr.headSha, `403 ${refusal.words}`).length > 0, "an error line with the forge's words");
      });

      test("a command whose access check is refused: a reply in the forge's words, an error log line, the job failed", async () => {
        const repo = await suite.h.createRepo();
        suite.h.forge.setAccess(repo.fullName, "writer", "write");
        const pr = await suite.h.openPullRequest(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
        const failedJobs = await jobs("ferry-command", "failed");
        suite.h.forge.failNext({ method: "GET", pathPrefix: suite.h.forge.apiPaths(repo.fullName).access }, [
          forbidden,
        ]);
        assert.equal((await suite.h.deliver(suite.h.comment(repo, pr, "writer", "/ferry plan"))).status, 202);
        const replies = await suite.h.comments(repo, pr.number, /could not check/, SETTLE_MS);
        const reply = replies.find((b) => b.includes("could not check")) ?? "";
        assert.match(reply, /^@writer Ferry could not check your access/);
        assert.ok(reply.includes(`403 ${refusal.words}`), reply);
        await suite.jobs.settled(SETTLE_MS);
        assert.equal(await jobs("ferry-command", "failed"), failedJobs + 1);
        assert.ok(errorLines(`403 ${refusal.words}`, "writer").length > 0, "an error line with the forge's words");
        assert.deepEqual(
          [...suite.h.statuses(repo, pr.headSha), ...suite.h.planResults(repo, pr.headSha)],
          [],
          "nothing was planned",
        );
      });
    });

    test("item 8: a push whose merged-change lookup is slow and then refused is released without waiting for it, and its job completes", async () => {
      const repo = await suite.h.createRepo();
      const before = await repo.git.head("main");
      const merge = await suite.h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
      const counts = {
        completed: await jobs("ferry-deploy", "completed"),
        failed: await jobs("ferry-deploy", "failed"),
        retrying: await jobs("ferry-deploy", "retrying"),
      };
      const lookup = suite.h.forge.apiPaths(repo.fullName).mergedChanges(merge.sha);
      suite.h.forge.failNext({ method: "GET", pathPrefix: lookup }, [
        { status: 503, headers: { "retry-after": String(FORGE_WAIT_S) } },
        forbidden,
      ]);
      const applied = await watchApplied(repo);
      const from = suite.h.forge.requests().length;
      try {
        assert.equal((await suite.h.deliver(suite.h.push(repo, before, merge.sha))).status, 202);
        const final = (await suite.h.finalStatus(repo, merge.sha, CONTEXT, SETTLE_MS)).at(-1);
        assert.equal(final?.state, "success");
        assert.match(final?.description ?? "", /^deployed: \+1 ~0 −0/);
        await suite.jobs.settled(SETTLE_MS);
        const refused = requestsSince(from).find((r) => r.path.includes(lookup) && r.status === 403);
        assert.ok(refused !== undefined, "the lookup was refused");
        const appliedAt = applied.at();
        assert.ok(
          appliedAt !== undefined && appliedAt < refused.at,
          `applied ${appliedAt === undefined ? "never" : `${appliedAt - refused.at} ms after`} the lookup's answer: the release waited for it`,
        );
        assert.equal(await jobs("ferry-deploy", "completed"), counts.completed + 1, "the deploy job completed");
        assert.equal(await jobs("ferry-deploy", "failed"), counts.failed);
        assert.equal(await jobs("ferry-deploy", "retrying"), counts.retrying);
        assert.ok(
          suite.h.logLines.some(
            (line) => line.includes(merge.sha) && line.includes(`403 ${refusal.words}`) && line.includes("merged as"),
          ),
          "the lookup's failure is logged",
        );
      } finally {
        applied.stop();
      }
    });

    test("item 9: a slow and failing status endpoint holds up neither the apply nor the release; no 'retrying', nothing out of order", async () => {
      const repo = await suite.h.createRepo();
      const merge = await suite.h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
      const retried = {
        deploy: await jobs("ferry-deploy", "retrying"),
        release: await jobs("ferry-release", "retrying"),
      };
      const paths = suite.h.forge.apiPaths(repo.fullName);
      // The first status post waits as the forge asks; the next fails with a 502 (GitLab does not retry a POST itself).
      suite.h.forge.failNext({ method: "POST", pathPrefix: paths.statuses }, [
        { status: 503, headers: { "retry-after": String(FORGE_WAIT_S) } },
        { status: 502 },
      ]);
      const applied = await watchApplied(repo);
      const from = suite.h.forge.requests().length;
      try {
        assert.equal((await suite.h.deliver(merge.delivery)).status, 202);
        await suite.h.finalStatus(repo, merge.sha, CONTEXT, SETTLE_MS);
        await suite.jobs.settled(SETTLE_MS);
        const statuses = deployStatuses(repo, merge.sha);
        const firstLanded = requestsSince(from).find(
          (r) => r.method === "POST" && r.path.includes(paths.statuses) && r.status < 300,
        );
        assert.ok(firstLanded !== undefined);
        const appliedAt = applied.at();
        assert.ok(
          appliedAt !== undefined && appliedAt < firstLanded.at,
          `applied ${appliedAt === undefined ? "never" : `${appliedAt - firstLanded.at} ms after`} the first status landed: the release waited for it`,
        );
        assertInOrder(statuses);
        assert.equal(statuses.at(-1)?.state, "success");
        assert.match(statuses.at(-1)?.description ?? "", /^deployed: \+1 ~0 −0/);
        assert.equal(
          await jobs("ferry-deploy", "retrying"),
          retried.deploy,
          "the deploy job was not retried for a status",
        );
        assert.equal(
          await jobs("ferry-release", "retrying"),
          retried.release,
          "the release job was not retried for a status",
        );
      } finally {
        applied.stop();
      }
    });

    test("the forge refused no status transition in this suite", () => {
      assert.deepEqual(suite.h.forge.refusedTransitions(), []);
    });
  });

/** A commit's deploy statuses: no "retrying", "queued" only first, one final status and nothing after it. */
function assertInOrder(statuses: SeenStatus[]): void {
  const text = JSON.stringify(statuses);
  assert.ok(
    !statuses.some((s) => s.description.startsWith("retrying")),
    `a status write made the release retry: ${text}`,
  );
  assert.ok(
    statuses.every((s, i) => s.description !== "queued" || i === 0),
    `"queued" after a later status: ${text}`,
  );
  const finals = statuses.filter((s) => s.state === "success" || s.state === "failure");
  assert.equal(finals.length, 1, `one final status: ${text}`);
  assert.equal(statuses.at(-1), finals[0], `nothing after the final status: ${text}`);
}
