import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import axe from "axe-core";
import { Redis } from "ioredis";
import { chromium, type Browser, type Page } from "playwright-core";
import { RolloutStore } from "../src/rollout/rollout-store.js";
import { configMapYaml, FerryHarness, FORGES, type TestRepo } from "./support/ferry-harness.js";
import { letRead } from "./support/web-login.js";

/** Where screenshots of the main pages go (not committed): `.scratch/web-view/`, or `FERRY_TEST_ARTEFACTS`. */
const ARTEFACTS = join(
  process.env.FERRY_TEST_ARTEFACTS ?? new URL("../.scratch", import.meta.url).pathname,
  "web-view",
);

/** Debian's chromium (`scripts/setup --test` installs it); playwright-core downloads no browser. */
function chromiumPath(): string {
  return process.env.FERRY_CHROMIUM ?? execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim();
}

/** Runs axe-core in the page; the violations of impact serious or critical. */
async function seriousViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, which the pages' CSP (no scripts) does not govern.
  await page.evaluate(axe.source);
  const result = await page.evaluate(() =>
    (globalThis as unknown as { axe: typeof axe }).axe.run({ resultTypes: ["violations"] }),
  );
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
}

for (const forge of FORGES)
  describe(`web view in Chromium (${forge})`, () => {
    let h: FerryHarness;
    let browser: Browser;
    let shop: TestRepo;
    let hidden: TestRepo;
    let planSha: string;
    let rolloutId: string;

    before(async () => {
      await mkdir(ARTEFACTS, { recursive: true });
      browser = await chromium.launch({ executablePath: chromiumPath(), args: ["--no-sandbox"] });
      h = await FerryHarness.start(forge);
      shop = await h.createRepo();
      hidden = await h.createRepo();
      letRead(h, forge, shop.fullName, "alice", true);
      for (const repo of [shop, hidden]) {
        for (const v of ["1", "2"]) {
          const merged = await h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v }) });
          await h.deliver(merged.delivery);
          assert.equal((await h.finalStatus(repo, merged.sha)).at(-1)?.state, "success");
          const redis = new Redis(h.redisUrl);
          rolloutId =
            (await new RolloutStore(redis).idOf({ forge, fullName: shop.fullName }, "staging", merged.sha)) ??
            rolloutId;
          await redis.quit();
        }
      }
      const pr = await h.openPullRequest(shop, { "deploy/a.yaml": configMapYaml("a", { v: "3" }) });
      await h.deliver(pr.delivery);
      await h.finalStatus(shop, pr.headSha, "ferry/plan/staging");
      planSha = pr.headSha;
    });
    after(async () => {
      await browser?.close();
      await h?.close();
    });

    /** A fresh browser profile signed in as `login` through the forge's (simulated) authorization page. */
    const signedIn = async (login: string): Promise<Page> => {
      const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
      const page = await context.newPage();
      await page.goto(`${h.url}/`);
      assert.match(page.url(), /\/login\?next=%2F$/);
      await page.getByRole("link", { name: `Sign in with ${forge === "github" ? "GitHub" : "GitLab"}` }).click();
      await page.getByLabel("Username").fill(login);
      await page.getByRole("button", { name: "Authorize" }).click();
      await page.waitForURL(`${h.url}/`);
      return page;
    };

    test("a reader signs in, sees only her repositories, opens the history, a plan from its commit status, and signs out", async () => {
      const page = await signedIn("alice");
      const table = page.getByRole("table", { name: "Environments you can see" });
      assert.ok(await table.getByText(shop.fullName).isVisible());
      assert.equal(await page.getByText(hidden.fullName).count(), 0);
      assert.deepEqual(await seriousViolations(page), []);
      await page.screenshot({ path: join(ARTEFACTS, `${forge}-home.png`), fullPage: true });

      await page.getByRole("link", { name: `${shop.fullName} · staging` }).click();
      await page.getByRole("heading", { name: "Release history" }).waitFor();
      const history = page.getByRole("table", { name: "Audit records, newest first" });
      assert.ok((await history.getByRole("row").count()) > 2);
      assert.deepEqual(await seriousViolations(page), []);
      await page.screenshot({ path: join(ARTEFACTS, `${forge}-environment.png`), fullPage: true });
      await page.setViewportSize({ width: 1200, height: 900 });
      await page.screenshot({ path: join(ARTEFACTS, `${forge}-environment-wide.png`), fullPage: true });

      // The commit's plan status links to its plan: follow it as someone on the forge would.
      const status = h.planResults(shop, planSha).find((s) => s.context === "ferry/plan/staging" && s.targetUrl);
      await page.goto(status?.targetUrl ?? "");
      assert.match((await page.textContent("body")) ?? "", /ConfigMap/);
      await page.goto(`${h.url}/rollouts/${rolloutId}`);
      assert.ok(await page.getByRole("heading").first().isVisible());
      assert.deepEqual(await seriousViolations(page), []);
      await page.screenshot({ path: join(ARTEFACTS, `${forge}-rollout.png`), fullPage: true });

      await page.goto(`${h.url}/`);
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.waitForURL(`${h.url}/login`);
      assert.deepEqual(await seriousViolations(page), []);
      await page.screenshot({ path: join(ARTEFACTS, `${forge}-login.png`), fullPage: true });
      await page.goto(`${h.url}/`);
      assert.match(page.url(), /\/login\?next=/);
      await page.context().close();
    });

    test("a user without access sees no repository and gets 404 for its history, plan and rollout", async () => {
      const page = await signedIn("mallory");
      assert.equal(await page.getByText(shop.fullName).count(), 0);
      const status = h.planResults(shop, planSha).find((s) => s.context === "ferry/plan/staging" && s.targetUrl);
      for (const url of [
        `${h.url}/environments/${forge}/${shop.fullName}/staging`,
        status?.targetUrl ?? "",
        `${h.url}/rollouts/${rolloutId}`,
        `${h.url}/api/v1/environments/${forge}/${shop.fullName}/staging`,
      ]) {
        const response = await page.goto(url);
        assert.equal(response?.status(), 404, url);
      }
      await page.goto(`${h.url}/environments/${forge}/${shop.fullName}/staging`);
      assert.deepEqual(await seriousViolations(page), []);
      await page.context().close();
    });
  });
