import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { after, before, describe, test } from "node:test";
import { AuditLog } from "../src/audit/audit-log.js";
import { RolloutStore } from "../src/rollout/rollout-store.js";
import { configMapYaml, FerryHarness, FORGES, type TestRepo } from "./support/ferry-harness.js";
import {
  approveAtForge,
  letRead,
  setCookies,
  signIn,
  simulatorOf,
  webLoginEnv,
  WEB_CLIENT,
} from "./support/web-login.js";
import { waitUntil } from "./support/wait-until.js";

const envPath = (forge: string, repo: TestRepo, env = "staging") => `/environments/${forge}/${repo.fullName}/${env}`;

for (const forge of FORGES)
  describe(`web view behind ${forge}'s sign-in`, () => {
    let h: FerryHarness;
    let shop: TestRepo;
    let hidden: TestRepo;
    let planUrl: string;
    let rolloutUrl: string;
    let alice: string;
    let bob: string;

    before(async () => {
      h = await FerryHarness.start(forge);
      const redis = new Redis(h.redisUrl);
      const rollouts = new RolloutStore(redis);
      shop = await h.createRepo();
      hidden = await h.createRepo();
      letRead(h, forge, shop.fullName, "alice", true);
      for (const repo of [shop, hidden]) {
        const merged = await h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
        await h.deliver(merged.delivery);
        assert.equal((await h.finalStatus(repo, merged.sha)).at(-1)?.state, "success");
        const id = await rollouts.idOf({ forge, fullName: repo.fullName }, "staging", merged.sha);
        if (repo === shop) rolloutUrl = `${h.url}/rollouts/${id ?? ""}`;
      }
      const pr = await h.openPullRequest(shop, { "deploy/a.yaml": configMapYaml("a", { v: "2" }) });
      await h.deliver(pr.delivery);
      const plan = await h.finalStatus(shop, pr.headSha, "ferry/plan/staging");
      planUrl = plan.at(-1)?.targetUrl ?? "";
      assert.match(planUrl, /\/plans\/[0-9a-f]{32}$/);
      assert.match(rolloutUrl, /\/rollouts\/[A-Za-z0-9_-]{22}$/);
      await redis.quit();
      alice = await signIn(h, forge, "alice");
      bob = await signIn(h, forge, "bob");
    });
    after(async () => h?.close());

    const get = (path: string, cookie?: string, accept?: string) =>
      fetch(path.startsWith("http") ? path : `${h.url}${path}`, {
        redirect: "manual",
        headers: { ...(cookie ? { cookie } : {}), ...(accept ? { accept } : {}) },
      });

    test("without a session, pages send people to sign in and the API answers 401", async () => {
      for (const path of ["/", envPath(forge, shop), new URL(planUrl).pathname, new URL(rolloutUrl).pathname]) {
        const res = await get(path);
        assert.equal(res.status, 302, path);
        assert.equal(res.headers.get("location"), `/login?${new URLSearchParams({ next: path }).toString()}`);
      }
      assert.equal((await get("/api/v1/environments")).status, 401);
      assert.equal((await get(`/api/v1${envPath(forge, shop)}`)).status, 401);
      const forged = await get("/", `ferry_session=${"A".repeat(32)}.bad`);
      assert.equal(forged.status, 302);
    });

    test("a reader sees only the repositories the forge lets them read, with history, plan and rollout", async () => {
      const home = await get("/", alice);
      assert.equal(home.status, 200);
      const page = await home.text();
      assert.ok(page.includes(shop.fullName), "alice's home page lists the repository she can read");
      assert.ok(!page.includes(hidden.fullName), "and not the one she cannot");
      assert.match(page, /in sync/);
      const tokens = [...simulatorOf(h).oauth.tokens.keys()];
      assert.ok(tokens.length > 0);
      assert.ok(
        !page.includes(WEB_CLIENT.clientSecret) && !tokens.some((token) => page.includes(token)),
        "no secret shown",
      );

      const env = await get(envPath(forge, shop), alice);
      assert.equal(env.status, 200);
      const envPage = await env.text();
      assert.match(envPage, /<table class="cards">/);
      assert.match(envPage, /<th scope="col">Outcome<\/th>/);
      assert.match(envPage, /released/);

      const api = (await (await get("/api/v1/environments", alice)).json()) as {
        environments: Array<{ repository: string; state: string; commit?: string }>;
      };
      assert.deepEqual(
        api.environments.map((e) => e.repository),
        [shop.fullName],
      );
      assert.equal(api.environments[0]?.state, "in sync");
      const detail = (await (await get(`/api/v1${envPath(forge, shop)}?limit=1`, alice)).json()) as {
        history: Array<{ id: string; record: { action: string } }>;
        nextBefore?: string;
      };
      assert.equal(detail.history.length, 1);
      assert.ok(detail.nextBefore, "one record per page leaves older ones for the next page");
      const older = (await (
        await get(`/api/v1${envPath(forge, shop)}?limit=1&before=${detail.nextBefore}`, alice)
      ).json()) as typeof detail;
      assert.notEqual(older.history[0]?.id, detail.history[0]?.id);

      const plan = await get(planUrl, alice);
      assert.equal(plan.status, 200);
      assert.match(await plan.text(), /ConfigMap/);
      const rollout = await get(rolloutUrl, alice);
      assert.equal(rollout.status, 200);
    });

    test("a user who cannot read a repository sees neither its plans, its rollouts nor its history", async () => {
      const home = await (await get("/", bob)).text();
      assert.ok(!home.includes(shop.fullName) && !home.includes(hidden.fullName));
      for (const path of [
        envPath(forge, shop),
        envPath(forge, hidden),
        planUrl,
        rolloutUrl,
        envPath(forge, shop, "nope"),
      ])
        assert.equal((await get(path, bob)).status, 404, path);
      assert.deepEqual(
        ((await (await get("/api/v1/environments", bob)).json()) as { environments: unknown[] }).environments,
        [],
      );
      assert.equal((await get(`/api/v1${envPath(forge, shop)}`, bob)).status, 404);
      assert.equal((await get(`${rolloutUrl}.json`, bob)).status, 404);
      // Alice's access is asked of the forge with her token: taking it away shows within the cache's minute;
      // a new session asks afresh at once.
      letRead(h, forge, shop.fullName, "alice", false);
      const again = await signIn(h, forge, "alice");
      assert.equal((await get(envPath(forge, shop), again)).status, 404);
      letRead(h, forge, shop.fullName, "alice", true);
    });

    test("sign-in refuses a reused code, a forged state and a foreign redirect; the forge refuses a wrong secret", async () => {
      const { callback, loginCookie } = await approveAtForge(h, forge, "alice");
      const first = await get(callback, loginCookie);
      assert.equal(first.status, 303);
      const reused = await get(callback, loginCookie);
      assert.equal(reused.status, 400, "the sign-in cookie is gone after use");
      const sim = simulatorOf(h);
      const before = sim.oauth.exchanges.length;
      const fresh = await approveAtForge(h, forge, "alice");
      const code = new URL(fresh.callback).searchParams.get("code") ?? "";
      const forgedState = fresh.callback.replace(/state=[^&]+/, "state=forged");
      assert.equal((await get(forgedState, fresh.loginCookie)).status, 400);
      assert.equal(sim.oauth.exchanges.length, before, "a forged state never reaches the forge");
      // The code itself, replayed by hand: the forge answers as it documents.
      const tokenUrl = forge === "github" ? `${sim.url}/login/oauth/access_token` : `${sim.url}/oauth/token`;
      const exchange = (secret: string) =>
        fetch(tokenUrl, {
          method: "POST",
          headers: { accept: "application/json" },
          body: new URLSearchParams({
            grant_type: "authorization_code",
            client_id: WEB_CLIENT.clientId,
            client_secret: secret,
            code,
            redirect_uri: `${h.url}/login/${forge}/callback`,
          }),
        });
      const wrongSecret = (await (await exchange("wrong")).json()) as { error: string };
      assert.equal(wrongSecret.error, forge === "github" ? "incorrect_client_credentials" : "invalid_client");
      assert.equal(
        ((await (await exchange(WEB_CLIENT.clientSecret)).json()) as { access_token?: string }).access_token?.length !==
          undefined,
        true,
      );
      const replay = (await (await exchange(WEB_CLIENT.clientSecret)).json()) as { error: string };
      assert.equal(replay.error, forge === "github" ? "bad_verification_code" : "invalid_grant");
      const authorize = await fetch(
        `${sim.url}${forge === "github" ? "/login/oauth/authorize" : "/oauth/authorize"}?client_id=${WEB_CLIENT.clientId}&redirect_uri=${encodeURIComponent("https://evil.example/cb")}`,
      );
      assert.equal(authorize.status, 400);
      const sessionSecret = webLoginEnv(forge).FERRY_SESSION_SECRET ?? "";
      assert.ok(
        !h.logLines.some(
          (l) =>
            l.includes(WEB_CLIENT.clientSecret) ||
            l.includes(sessionSecret) ||
            /ghu_[0-9a-f]{10}/.test(l) ||
            [...simulatorOf(h).oauth.tokens.keys()].some((token) => l.includes(token)),
        ),
        "no secret logged",
      );
    });

    test("signing out is a form post that needs the session's CSRF token", async () => {
      const session = await signIn(h, forge, "alice");
      const page = await (await get("/", session)).text();
      const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? "";
      assert.ok(csrf);
      const post = (body: string) =>
        fetch(`${h.url}/logout`, {
          method: "POST",
          redirect: "manual",
          headers: { cookie: session, "content-type": "application/x-www-form-urlencoded" },
          body,
        });
      assert.equal((await post("csrf=wrong")).status, 403);
      assert.equal((await get("/", session)).status, 200, "a refused sign-out leaves the session");
      const out = await post(`csrf=${encodeURIComponent(csrf)}`);
      assert.equal(out.status, 303);
      assert.match(out.headers.getSetCookie().join("\n"), /ferry_session=;/);
      assert.equal((await get("/", session)).status, 302, "the session is over");
    });

    test("an environment with 10,000 releases renders its first and a deep page quickly", async (t) => {
      if (forge !== "github") return t.skip("measured once");
      const big = await h.createRepo();
      letRead(h, forge, big.fullName, "alice", true);
      const redis = new Redis(h.redisUrl);
      const log = new AuditLog(redis, { retentionMs: 400 * 86_400_000 });
      const at = new Date().toISOString();
      for (let i = 0; i < 10_000; i++)
        await log.append({
          action: "release",
          actor: "dev",
          forge,
          repository: big.fullName,
          environment: "staging",
          cluster: `cluster-${i % 50}`,
          sha: i.toString(16).padStart(40, "0"),
          change: i + 1,
          finishedAt: at,
          outcome: "released",
          objects: { created: [], configured: [`Deployment shop/web-${i}`], pruned: [], unchanged: 12 },
        });
      await redis.quit();
      const path = envPath(forge, big);
      const timed = async (url: string) => {
        const started = performance.now();
        const res = await get(url, alice);
        const text = await res.text();
        assert.equal(res.status, 200);
        return { ms: performance.now() - started, text };
      };
      await timed(path); // warm: the forge's access answer is cached from here
      const first = await timed(path);
      const older = /href="([^"]+\?before=[^"#]+)/.exec(first.text)?.[1]?.replace(/&amp;/g, "&") ?? "";
      assert.ok(older, "the first page links to older records");
      let deep = older;
      let depth = 2;
      for (; depth < 100; depth++) {
        const next = /href="([^"]+\?before=[^"#]+)/.exec((await timed(deep)).text)?.[1];
        if (!next) break;
        deep = next;
      }
      const deepPage = await timed(deep);
      const api = await timed(`/api/v1${path}?limit=500`);
      t.diagnostic(
        `10,000 releases: first page ${first.ms.toFixed(1)} ms, page ${depth} ${deepPage.ms.toFixed(1)} ms, ` +
          `500 records as JSON ${api.ms.toFixed(1)} ms`,
      );
      assert.ok(first.ms < 1_000 && deepPage.ms < 1_000, `${first.ms} ms, ${deepPage.ms} ms`);
    });

    test("the session cookie is HttpOnly, Secure, SameSite=Lax and signed", async () => {
      const { callback, loginCookie } = await approveAtForge(h, forge, "alice");
      const back = await get(callback, loginCookie);
      const line = back.headers.getSetCookie().find((l) => l.startsWith("ferry_session=")) ?? "";
      assert.match(line, /HttpOnly/);
      assert.match(line, /Secure/);
      assert.match(line, /SameSite=Lax/);
      const value = setCookies(back).get("ferry_session") ?? "";
      const tampered = `${value.slice(0, 5)}${value[5] === "A" ? "B" : "A"}${value.slice(6)}`;
      assert.equal((await get("/", `ferry_session=${tampered}`)).status, 302);
      await waitUntil("session works", async () => (await get("/", `ferry_session=${value}`)).status === 200, 5_000);
    });
  });

describe("web view without sign-in configured", () => {
  let h: FerryHarness;
  before(async () => (h = await FerryHarness.start("github", {}, { signIn: false })));
  after(async () => h?.close());

  test("its pages answer 404, as the queue dashboard does, and the home page stays text", async () => {
    for (const path of ["/login", "/login/github", "/environments/github/acme/shop/staging", "/api/v1/environments"])
      assert.equal((await fetch(`${h.url}${path}`, { redirect: "manual" })).status, 404, path);
    const home = await fetch(`${h.url}/`);
    assert.match(home.headers.get("content-type") ?? "", /text\/plain/);
  });

  test("the plan and rollout its statuses link answer 404 with why, and show nothing of the plan", async () => {
    const repo = await h.createRepo();
    const merged = await h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
    assert.equal((await h.deliver(merged.delivery)).status, 202);
    const deployed = await h.finalStatus(repo, merged.sha);
    const pr = await h.openPullRequest(repo, { "deploy/a.yaml": configMapYaml("a", { v: "secret-looking-2" }) });
    assert.equal((await h.deliver(pr.delivery)).status, 202);
    const planned = await h.finalStatus(repo, pr.headSha, "ferry/plan/staging");
    assert.equal(deployed.at(-1)?.state, "success");
    const redis = new Redis(h.redisUrl);
    const rolloutId = await new RolloutStore(redis).idOf(
      { forge: "github", fullName: repo.fullName },
      "staging",
      merged.sha,
    );
    redis.disconnect();
    const planLink = planned.find((s) => s.targetUrl?.includes("/plans/"))?.targetUrl;
    assert.ok(rolloutId && planLink, JSON.stringify(planned));
    const links = [planLink, `${h.url}/rollouts/${rolloutId}`, `${h.url}/rollouts/${rolloutId}.json`];
    for (const url of links) {
      const page = await fetch(url, { redirect: "manual" });
      assert.equal(page.status, 404, url);
      const text = await page.text();
      assert.match(text, /no sign-in is configured/);
      assert.doesNotMatch(text, /secret-looking-2|a\b.*configmap/i);
    }
  });
});
