import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import express from "express";
import pino from "pino";
import request from "supertest";
import type { ClusterProgress, Rollout } from "../domain/rollout.js";
import type { RolloutView } from "../report/fleet-status.js";
import { noSignInGuard, type RepoGuard } from "./repo-guard.js";
import { rolloutRoute } from "./rollout-route.js";
import type { WebSession } from "./web-sessions.js";

/** A guard that lets every request through, as one signed-in viewer who can read every repository. */
const everyone: RepoGuard = () => Promise.resolve({ id: "s", forge: "github", login: "octocat" } as WebSession);

const sha = "3f2a9c1d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b";
const ID = "Zk3_x-9QaBcDeFgHiJkLmN";
const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);
const MIN = 60_000;

const rollout: Rollout = {
  id: ID,
  repo: { forge: "github", fullName: "acme/shop" },
  environment: "production",
  branch: "main",
  sha,
  actor: "alice",
  delivery: "d1",
  after: "staging",
  single: false,
  waves: [
    { index: 0, name: "canary", clusters: ["canary-1"], maxParallel: 1, failureBudget: 0, approval: false },
    { index: 1, name: "eu", clusters: ["eu-1", "eu-<2>", "eu-3"], maxParallel: 2, failureBudget: 1, approval: false },
  ],
  state: "running",
  wave: 1,
  createdAt: T0,
};

const clusters: ClusterProgress[] = [
  {
    cluster: "canary-1",
    wave: 0,
    state: "released",
    startedAt: T0,
    finishedAt: T0 + 2 * MIN,
    outcome: {
      kind: "released",
      sha,
      result: {
        created: [],
        configured: [{ apiVersion: "apps/v1", kind: "Deployment", namespace: "shop", name: "web" }],
        unchanged: 4,
        pruned: [],
      },
    },
  },
  { cluster: "eu-1", wave: 1, state: "releasing", startedAt: T0 + 3 * MIN },
  {
    cluster: "eu-<2>",
    wave: 1,
    state: "failed",
    startedAt: T0 + 3 * MIN,
    finishedAt: T0 + 8 * MIN,
    outcome: {
      kind: "failed",
      sha,
      error: "Deployment shop/web not available <script>alert(1)</script>\npod web-1: ImagePullBackOff",
      rollback: { state: "failure", sha: "abcdef1234", message: "rollback timed out" },
    },
  },
  { cluster: "eu-3", wave: 1, state: "pending" },
];

/** A real express app serving the route over views kept in a map; `loads` records every id looked up. */
function app(views: Record<string, RolloutView> = { [ID]: { rollout, clusters } }, guard = everyone) {
  const loads: string[] = [];
  const errors: string[] = [];
  const server = express();
  server.use(
    rolloutRoute({
      load: (id) => {
        loads.push(id);
        if (id === "BrokenBrokenBrokenBrok") return Promise.reject(new Error("redis down"));
        return Promise.resolve(views[id]);
      },
      log: pino({ level: "error" }, { write: (line: string) => void errors.push(line) }),
      now: () => T0 + 10 * MIN,
      guard,
    }),
  );
  return { server, loads, errors };
}

function assertSecure(res: request.Response) {
  assert.equal(res.headers["cache-control"], "no-store");
  assert.equal(res.headers["x-content-type-options"], "nosniff");
  assert.match(
    res.headers["content-security-policy"] ?? "",
    /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'$/,
  );
  assert.equal(res.headers["referrer-policy"], "no-referrer");
}

describe("rolloutRoute", () => {
  it("answers 404 for every rollout, with why, when no sign-in is configured", async () => {
    const { server } = app(undefined, noSignInGuard());
    const page = await request(server).get(`/rollouts/${ID}`);
    assert.equal(page.status, 404);
    assert.match(page.text, /no sign-in is configured/);
    assert.doesNotMatch(page.text, /eu-1/);
    const json = await request(server).get(`/rollouts/${ID}.json`);
    assert.equal(json.status, 404);
    assert.match((json.body as { error: string }).error, /no sign-in is configured/);
  });

  it("serves the page as HTML: the status, the waves and every cluster, escaped", async () => {
    const res = await request(app().server).get(`/rollouts/${ID}`).expect(200);
    assert.match(res.headers["content-type"] ?? "", /^text\/html; charset=utf-8/);
    assertSecure(res);
    const html = res.text;
    assert.ok(html.includes('<p class="status running">wave 2/2 (eu): 1/4 clusters released, 1 failed</p>'), html);
    assert.ok(html.includes('<meta name="viewport" content="width=device-width, initial-scale=1">'));
    assert.ok(
      html.includes(
        '<tr><td>1 · canary</td><td class="n">1</td><td class="n">1</td><td class="n">0 <small>/ 0</small></td><td class="n">0</td><td class="n">0</td><td>done</td><td class="n">2m 0s</td></tr>',
      ),
      html,
    );
    assert.ok(
      html.includes(
        '<tr><td>2 · eu</td><td class="n">3</td><td class="n">0</td><td class="n">1 <small>/ 1</small></td><td class="n">1</td><td class="n">1</td><td>running</td><td class="n">7m 0s</td></tr>',
      ),
      html,
    );
    for (const name of ["canary-1", "eu-1", "eu-&lt;2&gt;", "eu-3"])
      assert.ok(html.includes(`<td data-label="cluster"><code>${name}</code></td>`), name);
    assert.ok(html.includes('<td data-label="details">+0 ~1 −0 (4 unchanged)</td>'));
    assert.ok(
      html.includes('<td data-label="duration" class="n">7m 0s</td>'),
      "a releasing cluster is timed until now",
    );
    assert.ok(
      html.includes(
        "<summary>rollback to abcdef1 failed too: Deployment shop/web not available &lt;script&gt;alert(1)&lt;/script&gt;</summary>",
      ),
      html,
    );
    assert.ok(html.includes("pod web-1: ImagePullBackOff\n\nrollback: rollback timed out</pre>"));
    assert.ok(!html.includes("<script"), "nothing from a rollout is markup");
    assert.ok(!/\b(src|href)="(https?:)?\/\//.test(html), "no external assets");
  });

  it("allows exactly the page's own stylesheet", async () => {
    const res = await request(app().server).get(`/rollouts/${ID}`).expect(200);
    const style = /<style>([\s\S]*?)<\/style>/.exec(res.text)?.[1] ?? "";
    const hash = createHash("sha256").update(style).digest("base64");
    assert.ok(res.headers["content-security-policy"]?.includes(`style-src 'sha256-${hash}'`));
  });

  it("lists only the clusters in ?state, with the wave summary still whole", async () => {
    const html = (await request(app().server).get(`/rollouts/${ID}?state=failed`).expect(200)).text;
    assert.ok(html.includes("<h2>Clusters (failed: 1 of 4)</h2>"));
    assert.ok(html.includes("eu-&lt;2&gt;"));
    assert.ok(!html.includes("<code>canary-1</code>") && !html.includes("<code>eu-3</code>"));
    assert.ok(html.includes('<a href="?state=failed" aria-current="page">failed (1)</a>'));
    assert.ok(html.includes("<td>1 · canary</td>"), "the waves are summed over every cluster");
    const both = (await request(app().server).get(`/rollouts/${ID}?state=failed,pending`).expect(200)).text;
    assert.ok(
      both.includes("<code>eu-3</code>") && both.includes("eu-&lt;2&gt;") && !both.includes("<code>eu-1</code>"),
    );
  });

  it("refuses an unknown state", async () => {
    const res = await request(app().server).get(`/rollouts/${ID}?state=broken`).expect(400);
    assertSecure(res);
    assert.match(res.text, /^unknown state; the states are pending, releasing, released/);
  });

  it("serves JSON for a .json path or Accept: application/json", async () => {
    for (const req of [
      request(app().server).get(`/rollouts/${ID}.json`),
      request(app().server).get(`/rollouts/${ID}`).set("Accept", "application/json"),
    ]) {
      const res = await req.expect(200).expect("Content-Type", /^application\/json/);
      assertSecure(res);
      const body = res.body as {
        rollout: Rollout;
        status: unknown;
        waves: { name: string; state: string; counts: Record<string, number>; durationMs?: number }[];
        clusters: (ClusterProgress & { durationMs?: number })[];
      };
      assert.deepEqual(body.rollout, rollout);
      assert.deepEqual(body.status, {
        state: "running",
        description: "wave 2/2 (eu): 1/4 clusters released, 1 failed",
      });
      assert.deepEqual(
        body.waves.map((w) => [w.name, w.state, w.counts.failed, w.durationMs]),
        [
          ["canary", "done", 0, 2 * MIN],
          ["eu", "running", 1, 7 * MIN],
        ],
      );
      assert.deepEqual(
        body.clusters.map((c) => [c.cluster, c.state, c.durationMs]),
        [
          ["canary-1", "released", 2 * MIN],
          ["eu-1", "releasing", 7 * MIN],
          ["eu-<2>", "failed", 5 * MIN],
          ["eu-3", "pending", undefined],
        ],
      );
    }
    const failed = (await request(app().server).get(`/rollouts/${ID}.json?state=failed`).expect(200)).body as {
      clusters: ClusterProgress[];
    };
    assert.deepEqual(
      failed.clusters.map((c) => c.cluster),
      ["eu-<2>"],
    );
  });

  it("answers a browser with HTML, varying on Accept", async () => {
    const res = await request(app().server)
      .get(`/rollouts/${ID}`)
      .set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
      .expect(200);
    assert.match(res.headers["content-type"] ?? "", /^text\/html/);
    assert.match(res.headers.vary ?? "", /Accept/);
  });

  it("is a 404 for an unknown id, and for anything not shaped like one without looking it up", async () => {
    const { server, loads } = app();
    const unknown = await request(server).get("/rollouts/AAAAAAAAAAAAAAAAAAAAAA").expect(404);
    assertSecure(unknown);
    assert.equal(unknown.text, "no such rollout\n");
    await request(server).get("/rollouts/AAAAAAAAAAAAAAAAAAAAAA.json").expect(404).expect("Content-Type", /json/);
    assert.deepEqual(loads, ["AAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAA"]);
    for (const id of [
      "short",
      `${ID}A`,
      "Zk3_x-9QaBcDeFgHiJkLm=",
      "Zk3_x-9QaBcDeFgHiJkLm%2F",
      "..%2F..%2Fetc%2Fpasswd",
      `${ID}.html`,
      `${ID}.json.json`,
    ]) {
      const res = await request(server).get(`/rollouts/${id}`).expect(404);
      assertSecure(res);
    }
    assert.equal(loads.length, 2, "malformed ids are never looked up");
  });

  it("shows an unreachable cluster in a state of its own, counted against the wave's budget", async () => {
    const unreachable: ClusterProgress = {
      cluster: "eu-3",
      wave: 1,
      state: "unreachable",
      startedAt: T0 + 3 * MIN,
      finishedAt: T0 + 4 * MIN,
      outcome: { kind: "unreachable", sha, error: "unreachable: the agent of cluster eu-3 was not seen for 60s" },
    };
    const view = { rollout, clusters: [...clusters.slice(0, 3), unreachable] };
    const { server } = app({ [ID]: view });
    const html = (await request(server).get(`/rollouts/${ID}?state=unreachable`).expect(200)).text;
    assert.ok(html.includes('<td data-label="state" class="s-unreachable">unreachable</td>'), html);
    assert.ok(html.includes("unreachable: the agent of cluster eu-3 was not seen for 60s"), html);
    assert.ok(html.includes('<td class="n">2 <small>/ 1</small></td>'), html);
    assert.ok(!html.includes("eu-1"), "only the unreachable cluster is listed");
    const body = (await request(server).get(`/rollouts/${ID}.json`).expect(200)).body as {
      counts: Record<string, number>;
      status: { description: string };
    };
    assert.equal(body.counts.unreachable, 1);
    assert.equal(body.counts.failed, 1);
    assert.equal(body.status.description, "wave 2/2 (eu): 1/4 clusters released, 1 failed, 1 unreachable");
  });

  it("logs a failed load and answers 503", async () => {
    const { server, errors } = app();
    const res = await request(server).get("/rollouts/BrokenBrokenBrokenBrok").expect(503);
    assertSecure(res);
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? "", /"msg":"loading a rollout failed"/);
    assert.match(errors[0] ?? "", /redis down/);
  });

  it("serves a rollout of 10,000 clusters", async () => {
    const many: ClusterProgress[] = Array.from({ length: 10_000 }, (_, i) => ({
      cluster: `c-${i}`,
      wave: 1,
      state: i % 100 === 0 ? "failed" : "released",
      startedAt: T0,
      finishedAt: T0 + MIN,
      outcome: i % 100 === 0 ? { kind: "failed", sha, error: "x".repeat(500) } : { kind: "already-released", sha },
    }));
    const { server } = app({ [ID]: { rollout: { ...rollout, state: "failed" }, clusters: many } });
    const html = (await request(server).get(`/rollouts/${ID}?state=failed`).expect(200)).text;
    assert.equal(html.match(/<td data-label="cluster">/g)?.length, 100);
    assert.ok(html.includes("<h2>Clusters (failed: 100 of 10000)</h2>"));
  });
});
