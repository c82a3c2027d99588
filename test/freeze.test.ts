/**
 * Freeze windows: a window of `.ferry.yml` holds a merge's release back (pending, saying until when
 * and why) and releases it when the window ends; `/ferry freeze` and `/ferry unfreeze` by a writer,
 * `/ferry deploy <env> --override-freeze` by an admin (refused to a writer); plans still run; every
 * step is in the audit trail. Both forges.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { stringify } from "yaml";
import type { RepoRef } from "../src/domain/repo.js";
import { deployJobId } from "../src/queue/deploy-request.js";
import { AuditReader } from "./support/audit-records.js";
import { configMapYaml, FerryHarness, FORGES, TEST_CLUSTER, type TestRepo } from "./support/ferry-harness.js";
import { JobCounter } from "./support/job-counter.js";
import { waitUntil } from "./support/wait-until.js";

const CONTEXT = "ferry/deploy/staging";
const FROZEN = /^frozen until \d{4}-\d\d-\d\d \d\d:\d\d UTC: /;

for (const forge of FORGES)
  describe(`freeze windows (${forge})`, () => {
    let h: FerryHarness;
    let jobs: JobCounter;
    let audit: AuditReader;
    before(async () => {
      h = await FerryHarness.start(forge);
      jobs = JobCounter.open(h.redisUrl);
      audit = AuditReader.open(h.redisUrl);
    });
    after(async () => {
      audit?.close();
      await jobs?.close();
      await h?.close();
    });

    const version = async (repo: TestRepo) =>
      ((await h.list("v1", "ConfigMap", repo.namespace)).get("flags") as { data?: { v?: string } } | undefined)?.data
        ?.v;
    /** Merges `v` of the ConfigMap (and `extra` files), delivers it, and waits for its deploy job to end. */
    async function mergeAndRun(repo: TestRepo, v: string, extra: Record<string, string> = {}) {
      const merge = await h.merge(repo, { "deploy/cm.yaml": configMapYaml("flags", { v }), ...extra });
      await h.deliver(merge.delivery);
      const ref = { forge, fullName: repo.fullName } as RepoRef;
      await jobs.finished("ferry-deploy", deployJobId({ repo: ref, branch: "main", sha: merge.sha }), 60_000);
      return merge;
    }
    const deployStatus = (repo: TestRepo, sha: string) => h.statuses(repo, sha).filter((s) => s.context === CONTEXT);

    test("a window of .ferry.yml holds a merge back, pending, and releases it when the window ends", async () => {
      const repo = await h.createRepo({ environment: { wait: false } });
      // A window opening this second (cron with seconds, UTC) for 8 s.
      const start = new Date();
      const cron = `${start.getUTCSeconds()} ${start.getUTCMinutes()} ${start.getUTCHours()} ${start.getUTCDate()} ${start.getUTCMonth() + 1} *`;
      const until = Math.floor(start.getTime() / 1000) * 1000 + 8_000;
      const config = stringify({
        version: 1,
        environments: [
          {
            name: "staging",
            branch: "main",
            path: "deploy",
            cluster: TEST_CLUSTER,
            namespace: repo.namespace,
            wait: false,
          },
        ],
        freeze: [{ cron, duration: "8s", environments: ["staging"], reason: "release freeze" }],
      });
      const merge = await mergeAndRun(repo, "1", { ".ferry.yml": config });
      assert.ok(Date.now() < until, "the deploy ran inside the window (the machine was too slow to test this)");
      assert.match(
        deployStatus(repo, merge.sha).at(-1)?.description ?? "",
        new RegExp(`${FROZEN.source}release freeze$`),
      );
      assert.equal(await version(repo), undefined, "nothing was released during the window");

      const final = (await h.finalStatus(repo, merge.sha, CONTEXT, 60_000)).at(-1);
      assert.equal(final?.state, "success", final?.description);
      assert.ok(Date.now() >= until - 1000, "released only once the window ended");
      assert.equal(await version(repo), "1");
    });

    test("/ferry freeze, a plan during it, an override refused to a writer and run for an admin, /ferry unfreeze", async () => {
      const repo = await h.createRepo({ environment: { wait: false } });
      const first = await mergeAndRun(repo, "1");
      assert.equal((await h.finalStatus(repo, first.sha, CONTEXT)).at(-1)?.state, "success");
      h.forge.setAccess(repo.fullName, "lead", "write");
      h.forge.setAccess(repo.fullName, "boss", "admin");
      const on = { number: first.number } as never;

      await h.deliver(h.comment(repo, on, "lead", "/ferry freeze staging 1h holiday code freeze"));
      await h.comments(repo, first.number, /froze staging until .*: holiday code freeze\. Releases of staging wait/);

      const held = await mergeAndRun(repo, "2");
      assert.match(
        deployStatus(repo, held.sha).at(-1)?.description ?? "",
        new RegExp(`${FROZEN.source}holiday code freeze \\(frozen by @lead\\)$`),
      );
      assert.equal(await version(repo), "1", "the frozen merge was not released");

      const pr = await h.openPullRequest(repo, { "deploy/cm.yaml": configMapYaml("flags", { v: "9" }) });
      await h.deliver(pr.delivery);
      assert.equal((await h.finalStatus(repo, pr.headSha, "ferry/plan/staging")).at(-1)?.state, "success");

      await h.deliver(h.comment(repo, on, "lead", "/ferry deploy staging --override-freeze"));
      await h.comments(repo, first.number, /only admins of this repository can override a freeze/);
      await h.deliver(h.comment(repo, on, "boss", "/ferry deploy staging --override-freeze"));
      await h.comments(repo, first.number, /deploying main at \w{7} to staging, overriding any freeze/);
      await waitUntil(
        "the override never released",
        () => deployStatus(repo, held.sha).at(-1)?.state === "success",
        60_000,
      );
      assert.equal(await version(repo), "2");

      const later = await mergeAndRun(repo, "3");
      assert.match(deployStatus(repo, later.sha).at(-1)?.description ?? "", FROZEN);
      assert.equal(await version(repo), "2");
      await h.deliver(h.comment(repo, on, "lead", "/ferry unfreeze staging"));
      await h.comments(repo, first.number, /unfroze staging: the releases it held back start now/);
      assert.equal((await h.finalStatus(repo, later.sha, CONTEXT, 60_000)).at(-1)?.state, "success");
      assert.equal(await version(repo), "3");

      const records = await audit.records(forge, repo.fullName);
      const of = (action: string) => records.filter((r) => r.action === action);
      assert.equal(of("freeze")[0]?.actor, "lead");
      assert.match(of("freeze")[0]?.reason ?? "", /holiday code freeze/);
      assert.ok(of("refused-command").some((r) => r.actor === "lead" && /admin access/.test(r.reason ?? "")));
      assert.equal(of("freeze-override")[0]?.actor, "boss");
      assert.equal(of("unfreeze")[0]?.actor, "lead");
    });

    test("the forge refused no status transition in this suite", () => {
      assert.deepEqual(h.forge.refusedTransitions(), []);
    });
  });
