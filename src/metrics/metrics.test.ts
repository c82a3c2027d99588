import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { endpointOf } from "../forge/github/ferry-octokit.js";
import { countedApi } from "../forge/gitlab/gitlab-forge-factory.js";
import { Metrics } from "./metrics.js";

const line = (text: string, series: string) => text.split("\n").find((l) => l.startsWith(`${series} `));

describe("Metrics", () => {
  test("each instance has its own registry, so two Ferrys in one process count apart", async () => {
    const a = new Metrics();
    const b = new Metrics();
    a.webhooks("github").received();
    assert.equal(
      line(await a.text(), 'ferry_webhooks_received_total{forge="github"}'),
      'ferry_webhooks_received_total{forge="github"} 1',
    );
    assert.equal(line(await b.text(), 'ferry_webhooks_received_total{forge="github"}'), undefined);
  });

  test("queue depth is read at scrape time; a Redis that fails or hangs yields no series instead of a failed scrape", async () => {
    const metrics = new Metrics();
    metrics.observeQueues(() =>
      Promise.resolve({ "ferry-deploy": { waiting: 3, active: 1, delayed: 0, prioritized: 0, failed: 2 } }),
    );
    const text = await metrics.text();
    assert.ok(line(text, 'ferry_queue_jobs{queue="ferry-deploy",state="waiting"}')?.endsWith(" 3"));
    assert.ok(line(text, 'ferry_queue_jobs{queue="ferry-deploy",state="failed"}')?.endsWith(" 2"));

    metrics.observeQueues(() => Promise.reject(new Error("Connection is closed.")));
    assert.doesNotMatch(await metrics.text(), /^ferry_queue_jobs\{/m);

    metrics.observeQueues(() => new Promise(() => undefined));
    const started = Date.now();
    assert.doesNotMatch(await metrics.text(), /^ferry_queue_jobs\{/m);
    assert.ok(Date.now() - started < 5000);
  });

  test("forge calls are labelled by status class, or error when no answer came", async () => {
    const metrics = new Metrics();
    const api = metrics.forgeApi("gitlab");
    api.call("Commits.editStatus", 201);
    api.call("Commits.editStatus", 404);
    api.call("Commits.editStatus", undefined);
    const text = await metrics.text();
    for (const status of ["2xx", "4xx", "error"])
      assert.ok(
        line(
          text,
          `ferry_forge_api_calls_total{forge="gitlab",endpoint="Commits.editStatus",status="${status}"}`,
        )?.endsWith(" 1"),
        status,
      );
  });
});

describe("rollout metrics", () => {
  test("set every cluster state of an environment's rollout, zeros included, so a state left behind reads 0", async () => {
    const metrics = new Metrics();
    const counts = {
      pending: 12,
      releasing: 2,
      released: 20,
      "already-released": 4,
      superseded: 0,
      skipped: 0,
      failed: 2,
      unreachable: 1,
    };
    metrics.rolloutClusters("production", counts);
    metrics.rolloutClusters("production", { ...counts, pending: 0, releasing: 0, released: 34 });
    const text = await metrics.text();
    assert.equal(
      line(text, 'ferry_rollout_clusters{environment="production",state="released"}'),
      'ferry_rollout_clusters{environment="production",state="released"} 34',
    );
    assert.equal(
      line(text, 'ferry_rollout_clusters{environment="production",state="releasing"}'),
      'ferry_rollout_clusters{environment="production",state="releasing"} 0',
    );
    assert.equal(
      line(text, 'ferry_rollout_clusters{environment="production",state="already-released"}'),
      'ferry_rollout_clusters{environment="production",state="already-released"} 4',
    );
    assert.equal(
      line(text, 'ferry_rollout_clusters{environment="production",state="unreachable"}'),
      'ferry_rollout_clusters{environment="production",state="unreachable"} 1',
    );
  });

  test("time waves and count rollouts by their final state only", async () => {
    const metrics = new Metrics();
    metrics.waveFinished("production", 95);
    metrics.waveFinished("production", 4000);
    metrics.rolloutFinished("production", "failed");
    metrics.rolloutFinished("production", "succeeded");
    metrics.rolloutFinished("production", "succeeded");
    metrics.rolloutFinished("production", "paused");
    const text = await metrics.text();
    assert.equal(
      line(text, 'ferry_rollout_wave_duration_seconds_bucket{le="120",environment="production"}'),
      'ferry_rollout_wave_duration_seconds_bucket{le="120",environment="production"} 1',
    );
    assert.equal(
      line(text, 'ferry_rollout_wave_duration_seconds_count{environment="production"}'),
      'ferry_rollout_wave_duration_seconds_count{environment="production"} 2',
    );
    assert.equal(
      line(text, 'ferry_rollouts_total{environment="production",result="succeeded"}'),
      'ferry_rollouts_total{environment="production",result="succeeded"} 2',
    );
    assert.equal(
      line(text, 'ferry_rollouts_total{environment="production",result="failed"}'),
      'ferry_rollouts_total{environment="production",result="failed"} 1',
    );
    assert.doesNotMatch(text, /^ferry_rollouts_total\{[^}]*result="paused"/m);
  });
});

describe("endpointOf", () => {
  test("keeps Octokit's route templates, and bounds concrete URLs", () => {
    assert.equal(endpointOf("get", "/repos/{owner}/{repo}/git/ref/{ref}"), "GET /repos/{owner}/{repo}/git/ref/{ref}");
    assert.equal(
      endpointOf("POST", "https://ghe.example.com/api/v3/app/installations/42/access_tokens?x=1"),
      "POST /app/installations/{id}/access_tokens",
    );
    assert.equal(endpointOf("GET", "/repos/acme/shop/commits/3f2a9c1d"), "GET /repos/acme/shop/commits/{id}");
  });
});

describe("countedApi", () => {
  test("counts each resource method call once it settles, passing results and errors through", async () => {
    const metrics = new Metrics();
    const api = countedApi(
      {
        Branches: { show: (project: string, branch: string) => Promise.resolve({ project, branch }) },
        Users: {
          showCurrentUser: () =>
            Promise.reject(Object.assign(new Error("401"), { cause: { response: { status: 401 } } })),
        },
      },
      metrics.forgeApi("gitlab"),
    );
    assert.deepEqual(await api.Branches.show("acme/shop", "main"), { project: "acme/shop", branch: "main" });
    await assert.rejects(api.Users.showCurrentUser(), /401/);
    const text = await metrics.text();
    assert.ok(
      line(text, 'ferry_forge_api_calls_total{forge="gitlab",endpoint="Branches.show",status="2xx"}')?.endsWith(" 1"),
    );
    assert.ok(
      line(text, 'ferry_forge_api_calls_total{forge="gitlab",endpoint="Users.showCurrentUser",status="4xx"}')?.endsWith(
        " 1",
      ),
    );
  });
});
