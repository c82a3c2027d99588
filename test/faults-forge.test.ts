/**
 * The forge down or rate-limited, on both forges: 5xx, and 429/403/503 with Retry-After, from the
 * simulator on every call a deploy makes (status, comment, comment list, archive, branch). Each
 * delivery still ends with exactly one final status per commit and one result comment; each retry
 * after a Retry-After came no sooner than the forge asked.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { FaultResponse } from "./support/simulator-faults.js";
import type { SeenStatus } from "./support/forge-doubles/forge-double.js";
import { configMapYaml, FORGES, type TestRepo } from "./support/ferry-harness.js";
import { suiteHarness } from "./support/suite-harness.js";

const SETTLE_MS = 180_000;
const CONTEXT = "ferry/deploy/staging";
const secondaryRateLimit = {
  message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
};

/** Asserts a commit's deploy statuses end in exactly one final status, matching `description`, with nothing after it. */
function assertOneFinal(statuses: SeenStatus[], description: RegExp): void {
  const finals = statuses.filter((s) => s.state === "success" || s.state === "failure");
  assert.equal(finals.length, 1, `one final status: ${JSON.stringify(statuses)}`);
  assert.equal(statuses.at(-1), finals[0], `nothing after the final status: ${JSON.stringify(statuses)}`);
  assert.equal(finals[0]?.state, "success");
  assert.match(finals[0]?.description ?? "", description);
}

for (const forge of FORGES)
  describe(`forge down or rate-limited (${forge})`, () => {
    const suite = suiteHarness(forge);

    /** Merges a one-ConfigMap change, injects `faults` (path → responses), delivers the merge and waits until every job is done. */
    const deployThrough = async (
      faults: (repo: TestRepo, change: number) => Array<[method: string, path: string, responses: FaultResponse[]]>,
    ) => {
      const repo = await suite.h.createRepo();
      const merge = await suite.h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
      const from = suite.h.forge.requests().length;
      const injected = faults(repo, merge.number);
      for (const [method, pathPrefix, responses] of injected) suite.h.forge.failNext({ method, pathPrefix }, responses);
      assert.equal((await suite.h.deliver(merge.delivery)).status, 202);
      await suite.h.finalStatus(repo, merge.sha, CONTEXT, SETTLE_MS);
      await suite.jobs.settled(SETTLE_MS);
      return { repo, merge, injected, requests: suite.h.forge.requests().slice(from) };
    };

    test("429, 403 and 503 with Retry-After, 500 and 502 on every call: waited out as asked, one final status, one result comment", async () => {
      const { repo, merge, injected, requests } = await deployThrough((repo, change) => {
        const paths = suite.h.forge.apiPaths(repo.fullName);
        return [
          [
            "POST",
            paths.statuses,
            [
              { status: 429, headers: { "retry-after": "2" }, body: secondaryRateLimit },
              { status: 503, headers: { "retry-after": "1" } },
              { status: 502 },
            ],
          ],
          [
            "POST",
            paths.comments(change),
            [
              forge === "github"
                ? { status: 403, headers: { "retry-after": "1" }, body: secondaryRateLimit }
                : { status: 429, headers: { "retry-after": "1" } },
            ],
          ],
          ["GET", paths.comments(change), [{ status: 502 }, { status: 500 }]],
          ["GET", paths.archive, [{ status: 503, headers: { "retry-after": "1" } }, { status: 502 }]],
          ["GET", paths.branch, [{ status: 500 }]],
        ];
      });
      assertOneFinal(
        suite.h.statuses(repo, merge.sha).filter((s) => s.context === CONTEXT),
        /^deployed: \+1 ~0 −0/,
      );
      assert.equal(
        (await suite.h.comments(repo, merge.number, /Ferry release/)).filter((b) => b.includes("Ferry release")).length,
        1,
      );
      assert.deepEqual((await suite.h.list("v1", "ConfigMap", repo.namespace)).get("a")?.data, { v: "1" });
      // Every fault was met, and every retry after a Retry-After came no sooner than it asked.
      for (const [method, path, responses] of injected) {
        const calls = requests.filter((r) => r.method === method && r.path.includes(path));
        const faulted = calls.filter((r) => r.injected);
        assert.equal(faulted.length, responses.length, `${method} ${path}: every fault was answered`);
        faulted.forEach((answered, i) => {
          const asked = Number(responses[i]?.headers?.["retry-after"] ?? 0) * 1000;
          // Statuses of other contexts (a reconcile's ferry/drift) are sent beside this one: its retry is the next post of the same status.
          const retried = calls
            .slice(calls.indexOf(answered) + 1)
            .find((r) => r.statusContext === answered.statusContext);
          assert.ok(retried !== undefined, `${method} ${path}: retried after fault ${i + 1}`);
          assert.ok(
            retried.at - answered.at >= asked,
            `${method} ${path}: retried ${retried.at - answered.at} ms after a Retry-After of ${asked} ms`,
          );
        });
      }
    });

    test("a forge that acts and then answers 502 (comment created, status set): no comment or status is doubled", async () => {
      const { repo, merge } = await deployThrough((repo, change) => {
        const paths = suite.h.forge.apiPaths(repo.fullName);
        return [
          ["POST", paths.statuses, [{ status: 502, afterHandling: true }]],
          ["POST", paths.comments(change), [{ status: 502, afterHandling: true }]],
        ];
      });
      assertOneFinal(
        suite.h.statuses(repo, merge.sha).filter((s) => s.context === CONTEXT),
        /^deployed: \+1 ~0 −0/,
      );
      const results = suite.h.rawComments(repo, merge.number).filter((c) => c.body.includes("Ferry release"));
      assert.equal(results.length, 1, JSON.stringify(results));
      assert.match(
        results[0]?.body ?? "",
        /✅ deployed `[0-9a-f]{7}` \| 1 \| 0 \| 0 \| 0 \|/,
        "the comment still says what the release did",
      );
    });

    test("a forge down for longer than a request's own retries (503s on statuses and comments): the job retries, one final status, one comment", async () => {
      const { repo, merge } = await deployThrough((repo, change) => {
        const paths = suite.h.forge.apiPaths(repo.fullName);
        return [
          // GitHub retries a status post three times itself, GitLab not a POST that failed with 5xx; a comment post neither.
          ["POST", paths.statuses, Array.from({ length: forge === "github" ? 5 : 2 }, () => ({ status: 503 }))],
          ["POST", paths.comments(change), [{ status: 503 }, { status: 503 }]],
        ];
      });
      assertOneFinal(
        suite.h.statuses(repo, merge.sha).filter((s) => s.context === CONTEXT),
        /^deployed: \+1 ~0 −0/,
      );
      const results = suite.h.rawComments(repo, merge.number).filter((c) => c.body.includes("Ferry release"));
      assert.equal(results.length, 1, JSON.stringify(results));
      assert.match(results[0]?.body ?? "", /✅ deployed `[0-9a-f]{7}` \| 1 \| 0 \| 0 \| 0 \|/);
    });

    test("the forge refused no status transition in this suite", () => {
      assert.deepEqual(suite.h.forge.refusedTransitions(), []);
    });
  });
