import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { stringify } from "yaml";
import { configMapYaml, FerryHarness } from "./support/ferry-harness.js";
import type { GitHubDouble } from "./support/forge-doubles/github-double.js";
import type { GitLabDouble } from "./support/forge-doubles/gitlab-double.js";
import { parsePrometheusText, sampleValue, type Sample } from "./support/prometheus-text.js";
import { sendGitHubWebhook } from "./support/webhooks.js";
import { waitUntil } from "./support/wait-until.js";

const secondaryRateLimit = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.";

/** Scrapes Ferry's `/metrics` until `check` passes (jobs record their metrics just after their last status), then returns the samples. */
async function scrapeUntil(h: FerryHarness, check: (samples: Sample[]) => void, timeoutMs = 30_000): Promise<Sample[]> {
  let samples: Sample[] = [];
  await waitUntil(
    "/metrics never passed the check",
    async () => {
      const response = await fetch(`${h.url}/metrics`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      samples = parsePrometheusText(await response.text());
      check(samples);
      return true;
    },
    timeoutMs,
  );
  return samples;
}

describe("/metrics after end-to-end releases and a plan (github)", () => {
  let h: FerryHarness;
  before(async () => (h = await FerryHarness.start("github")));
  after(async () => h.close());

  test("counts webhooks, jobs, releases, plans, objects, forge calls and rate-limit waits with their labels", async () => {
    const sim = (h.forge as GitHubDouble).sim;
    // The first status post meets a secondary rate limit: Ferry waits the second GitHub names, then retries.
    sim.failNext({ method: "POST", pathPrefix: "/repos/" }, [
      { status: 429, headers: { "retry-after": "1" }, body: { message: secondaryRateLimit } },
    ]);

    const repo = await h.createRepo();
    const first = await h.merge(repo, {
      "deploy/a.yaml": configMapYaml("a", { v: "1" }),
      "deploy/b.yaml": configMapYaml("b", { v: "1" }),
      "deploy/c.yaml": configMapYaml("c", { v: "1" }),
    });
    assert.equal((await h.deliver(first.delivery)).status, 202);
    assert.equal((await h.finalStatus(repo, first.sha)).at(-1)?.state, "success");
    const second = await h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "2" }), "deploy/c.yaml": null });
    assert.equal((await h.deliver(second.delivery)).status, 202);
    assert.match((await h.finalStatus(repo, second.sha)).at(-1)?.description ?? "", /^deployed: \+0 ~1 −1/);

    const broken = await h.createRepo();
    const invalid = stringify({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web" },
      spec: {
        replicas: -1,
        selector: { matchLabels: { app: "web" } },
        template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "nginx" }] } },
      },
    });
    const failing = await h.merge(broken, { "deploy/web.yaml": invalid });
    assert.equal((await h.deliver(failing.delivery)).status, 202);
    assert.equal((await h.finalStatus(broken, failing.sha)).at(-1)?.state, "failure");

    const pr = await h.openPullRequest(repo, { "deploy/b.yaml": configMapYaml("b", { v: "2" }) });
    assert.equal((await h.deliver(pr.delivery)).status, 202);
    assert.equal((await h.finalStatus(repo, pr.headSha, "ferry/plan/staging")).at(-1)?.state, "success");

    const forged = await sendGitHubWebhook(h.url, {
      event: "push",
      payload: first.delivery.payload,
      secret: "not-the-secret",
      deliveryId: "forged-1",
    });
    assert.equal(forged.status, 401);

    const samples = await scrapeUntil(h, (s) => {
      assert.equal(sampleValue(s, "ferry_jobs_total", { queue: "ferry-deploy", result: "completed" }), 3);
      assert.equal(sampleValue(s, "ferry_jobs_total", { queue: "ferry-plan", result: "completed" }), 1);
    });
    const value = (name: string, labels: Record<string, string> = {}) => sampleValue(samples, name, labels);

    // Webhooks: three merges and a pull request accepted, one forged delivery refused.
    assert.equal(value("ferry_webhooks_received_total", { forge: "github" }), 5);
    assert.equal(value("ferry_webhooks_accepted_total", { forge: "github", intent: "deploy" }), 3);
    assert.equal(value("ferry_webhooks_accepted_total", { forge: "github", intent: "plan" }), 1);
    assert.equal(value("ferry_webhooks_rejected_total", { forge: "github", reason: "authentication" }), 1);

    // Releases and plans by environment and result.
    const staging = { environment: "staging", cluster: "test" };
    assert.equal(value("ferry_releases_total", { ...staging, result: "released" }), 2);
    assert.equal(value("ferry_releases_total", { ...staging, result: "failed" }), 1);
    assert.equal(value("ferry_releases_total", { ...staging, result: "already-released" }), undefined);
    assert.equal(value("ferry_plans_total", { ...staging, result: "changes" }), 1);
    assert.equal(value("ferry_release_duration_seconds_count", { environment: "staging", result: "released" }), 2);
    assert.equal(
      value("ferry_release_duration_seconds_bucket", { environment: "staging", result: "released", le: "+Inf" }),
      2,
    );
    assert.ok((value("ferry_release_duration_seconds_sum", { environment: "staging", result: "released" }) ?? 0) > 0);
    assert.equal(value("ferry_release_duration_seconds_count", { environment: "staging", result: "failed" }), 1);
    assert.equal(value("ferry_plan_duration_seconds_count", { environment: "staging", result: "changes" }), 1);

    // Objects: three created, then one configured and one pruned; the failed release wrote nothing.
    assert.equal(value("ferry_objects_applied_total", { environment: "staging", action: "created" }), 3);
    assert.equal(value("ferry_objects_applied_total", { environment: "staging", action: "configured" }), 1);
    assert.equal(value("ferry_objects_pruned_total", { environment: "staging" }), 1);

    // Jobs: durations and queue latency per queue; nothing left waiting.
    assert.equal(value("ferry_job_duration_seconds_count", { queue: "ferry-deploy", result: "completed" }), 3);
    assert.equal(value("ferry_job_wait_seconds_count", { queue: "ferry-deploy" }), 3);
    assert.equal(value("ferry_job_wait_seconds_count", { queue: "ferry-plan" }), 1);
    for (const queue of ["ferry-deploy", "ferry-plan", "ferry-command"]) {
      assert.equal(value("ferry_queue_jobs", { queue, state: "waiting" }), 0, queue);
      assert.equal(value("ferry_queue_jobs", { queue, state: "failed" }), 0, queue);
    }

    // Forge calls: one count per status GitHub accepted (the rate-limited attempt and its retry are one call).
    const statusPosts = sim.requests.filter((r) => r.method === "POST" && /\/statuses\/[0-9a-f]{40}$/.test(r.path));
    assert.equal(statusPosts.filter((r) => r.status === 429).length, 1);
    assert.equal(
      value("ferry_forge_api_calls_total", {
        forge: "github",
        endpoint: "POST /repos/{owner}/{repo}/statuses/{sha}",
        status: "2xx",
      }),
      statusPosts.filter((r) => r.status === 201).length,
    );
    assert.equal(
      value("ferry_forge_api_calls_total", {
        forge: "github",
        endpoint: "GET /repos/{owner}/{repo}/tarball/{ref}",
        status: "2xx",
      }),
      sim.requests.filter((r) => /\/tarball\//.test(r.path) && r.status < 400).length,
    );
    assert.ok(
      (value("ferry_forge_api_calls_total", {
        forge: "github",
        endpoint: "POST /app/installations/{installation_id}/access_tokens",
        status: "2xx",
      }) ?? 0) >= 1,
    );
    assert.equal(value("ferry_forge_rate_limit_waits_total", { forge: "github", kind: "retry-after" }), 1);
    assert.equal(value("ferry_forge_rate_limit_wait_seconds_total", { forge: "github", kind: "retry-after" }), 1);

    // Node's own metrics come from the same registry.
    assert.ok(samples.some((s) => s.name === "process_cpu_user_seconds_total"));
  });
});

describe("/metrics after an end-to-end release (gitlab)", () => {
  let h: FerryHarness;
  before(async () => (h = await FerryHarness.start("gitlab")));
  after(async () => h.close());

  test("counts the webhook, the release, its objects, every GitLab API call by gitbeaker method and a Retry-After wait", async () => {
    const sim = (h.forge as GitLabDouble).sim;
    // GitLab answers the first status post with 429 and Retry-After: Ferry waits as asked, then posts again.
    sim.failNext({ method: "POST", pathPrefix: "/projects/" }, [{ status: 429, headers: { "retry-after": "1" } }]);
    const repo = await h.createRepo();
    const merge = await h.merge(repo, {
      "deploy/a.yaml": configMapYaml("a", { v: "1" }),
      "deploy/b.yaml": configMapYaml("b", { v: "1" }),
    });
    assert.equal((await h.deliver(merge.delivery)).status, 202);
    assert.equal((await h.finalStatus(repo, merge.sha)).at(-1)?.state, "success");
    const samples = await scrapeUntil(h, (s) =>
      assert.equal(sampleValue(s, "ferry_jobs_total", { queue: "ferry-deploy", result: "completed" }), 1),
    );
    const value = (name: string, labels: Record<string, string>) => sampleValue(samples, name, labels);
    assert.equal(value("ferry_webhooks_received_total", { forge: "gitlab" }), 1);
    assert.equal(value("ferry_webhooks_accepted_total", { forge: "gitlab", intent: "deploy" }), 1);
    assert.equal(value("ferry_releases_total", { environment: "staging", cluster: "test", result: "released" }), 1);
    assert.equal(value("ferry_objects_applied_total", { environment: "staging", action: "created" }), 2);
    const statusPosts = sim.requests.filter(
      (r) => r.method === "POST" && /\/statuses\/[0-9a-f]{40}$/.test(r.path) && r.status < 300,
    ).length;
    // The final status at least (a quick release sends no `queued`: it is held a second, then dropped).
    assert.ok(statusPosts >= 1);
    assert.equal(
      value("ferry_forge_api_calls_total", { forge: "gitlab", endpoint: "Commits.editStatus", status: "2xx" }),
      statusPosts,
    );
    assert.equal(
      value("ferry_forge_api_calls_total", { forge: "gitlab", endpoint: "Repositories.showArchive", status: "2xx" }),
      sim.requests.filter((r) => /\/repository\/archive/.test(r.path) && r.status < 300).length,
    );
    assert.equal(
      value("ferry_forge_api_calls_total", { forge: "gitlab", endpoint: "Users.showCurrentUser", status: "2xx" }),
      1,
    );
    assert.equal(sim.requests.filter((r) => r.status === 429).length, 1);
    assert.equal(value("ferry_forge_rate_limit_waits_total", { forge: "gitlab", kind: "retry-after" }), 1);
    assert.equal(value("ferry_forge_rate_limit_wait_seconds_total", { forge: "gitlab", kind: "retry-after" }), 1);
  });
});
