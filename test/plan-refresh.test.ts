/**
 * Plans kept fresh: after a rollout of a branch, the open changes into that branch are planned again,
 * so each plan comment describes the cluster as it is now and says what it was planned against; a
 * re-plan that comes out the same leaves the comment as it was.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { configMapYaml, FerryHarness, FORGES, type TestRepo } from "./support/ferry-harness.js";
import { waitUntil } from "./support/wait-until.js";

for (const forge of FORGES)
  describe(`open changes re-planned after a release (${forge})`, () => {
    let h: FerryHarness;
    before(async () => (h = await FerryHarness.start(forge)));
    after(async () => h.close());

    /** Waits until Ferry logged that it re-planned `change` and found the plan unchanged. */
    const unchangedReplan = (change: number, since: number) =>
      waitUntil(
        () => `change ${change} was never re-planned`,
        () =>
          h.logLines
            .slice(since)
            .some(
              (line) =>
                line.includes('"msg":"re-planned after a release: the plan is unchanged') &&
                line.includes(`"change":${change}`),
            ),
        60_000,
      );
    const planComment = (repo: TestRepo, change: number) =>
      h.rawComments(repo, change).find((c) => c.body.includes("Ferry plan"));

    test("a release moves the cluster under an open change: its plan is redone against it; a release that changed nothing leaves the comment alone", async () => {
      const repo = await h.createRepo();
      const pr = await h.openPullRequest(repo, { "deploy/shared.yaml": configMapYaml("shared", { v: "from-pr" }) });
      await h.deliver(pr.delivery);
      assert.equal(
        (await h.finalStatus(repo, pr.headSha, "ferry/plan/staging")).at(-1)?.description,
        "+1 ~0 −0 (0 unchanged)",
      );
      const first = await h.comments(repo, pr.number, /Ferry plan/);
      assert.match(first[0] ?? "", /planned against staging never released · \d\d:\d\d UTC/);

      // Another change creates the same ConfigMap and is released: the open change now updates it.
      const other = await h.merge(repo, { "deploy/shared.yaml": configMapYaml("shared", { v: "from-main" }) });
      await h.deliver(other.delivery);
      await h.finalStatus(repo, other.sha);
      const replanned = await h.comments(
        repo,
        pr.number,
        new RegExp(`planned against staging at \`${other.sha.slice(0, 7)}\``),
        60_000,
      );
      assert.match(replanned[0] ?? "", /staging · ~ ConfigMap e2e-[0-9a-f]+\/shared/);
      assert.match(replanned[0] ?? "", /- {2}v: from-main\n\+ {2}v: from-pr/);
      await waitUntil(
        () => "the plan status never moved to the new plan",
        () =>
          h
            .planResults(repo, pr.headSha)
            .filter((s) => s.context === "ferry/plan/staging")
            .at(-1)?.description === "+0 ~1 −0 (0 unchanged)",
        30_000,
      );
      const edits = planComment(repo, pr.number)?.edits ?? 0;

      // A merge whose release the API server refuses (a port out of range) leaves the cluster as it
      // was: the re-plan it causes finds the same plan and writes nothing.
      const since = h.logLines.length;
      const badService =
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: broken\nspec:\n  ports:\n    - port: 99999\n";
      const broken = await h.merge(repo, { "deploy/broken.yaml": badService });
      await h.deliver(broken.delivery);
      assert.equal((await h.finalStatus(repo, broken.sha)).at(-1)?.state, "failure");
      await unchangedReplan(pr.number, since);
      assert.equal(planComment(repo, pr.number)?.edits, edits, "the unchanged plan was not written again");
    });
  });
