import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { stringify } from "yaml";
import { configMapYaml, FerryHarness, FORGES } from "./support/ferry-harness.js";
import type { GitHubDouble } from "./support/forge-doubles/github-double.js";
import type { GitLabDouble } from "./support/forge-doubles/gitlab-double.js";
import { waitUntil } from "./support/wait-until.js";

/** A Secret manifest with one value in `stringData` and one in `data`. */
function secretYaml(name: string, plain: string, encoded: string): string {
  return stringify({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name },
    type: "Opaque",
    stringData: { API_TOKEN: plain },
    data: { PASSWORD: Buffer.from(encoded).toString("base64") },
  });
}

/** The values a leak would show: the text itself, and its base64 form. */
function forms(value: string): string[] {
  return [value, Buffer.from(value).toString("base64")];
}

for (const forge of FORGES)
  describe(`logs carry job context and no secrets (${forge})`, () => {
    let h: FerryHarness;
    before(async () => (h = await FerryHarness.start(forge)));
    after(async () => h.close());

    test("a release, a plan and a failed release with Secrets and a forge token log neither the values nor the token", async () => {
      const values = {
        first: `s3cr3t-${randomBytes(8).toString("hex")}`,
        encoded: `pw-${randomBytes(8).toString("hex")}`,
        second: `s3cr3t-${randomBytes(8).toString("hex")}`,
      };
      const repo = await h.createRepo();
      const release = await h.merge(repo, {
        "deploy/secret.yaml": secretYaml("api", values.first, values.encoded),
        "deploy/config.yaml": configMapYaml("config", { v: "1" }),
      });
      // The forge fails the first result comment with a 500 (statuses and deployment states are
      // retried beside the release, silently), so an error from the forge's client (which holds the
      // request, token header included) goes through the logs too: the job fails and is retried.
      const sim = forge === "github" ? (h.forge as GitHubDouble).sim : (h.forge as GitLabDouble).sim;
      sim.failNext({ method: "POST", pathPrefix: h.forge.apiPaths(repo.fullName).comments(release.number) }, [
        { status: 500 },
      ]);
      const releaseDelivery = `delivery-${randomBytes(4).toString("hex")}`;
      assert.equal((await h.deliver(release.delivery, releaseDelivery)).status, 202);
      assert.equal((await h.finalStatus(repo, release.sha)).at(-1)?.state, "success");
      const live = (await h.list("v1", "Secret", repo.namespace)).get("api") as
        { data?: Record<string, string> } | undefined;
      assert.equal(
        Buffer.from(live?.data?.API_TOKEN ?? "", "base64").toString(),
        values.first,
        "the Secret really was applied",
      );

      // A plan of a change to the Secret: its diff is masked on the comment, and nothing reaches the logs.
      const pr = await h.openPullRequest(repo, {
        "deploy/secret.yaml": secretYaml("api", values.second, values.encoded),
      });
      assert.equal((await h.deliver(pr.delivery)).status, 202);
      await h.finalStatus(repo, pr.headSha, "ferry/plan/staging");

      // A release that fails server-side validation, with the Secret among its objects, logs the error only.
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
      const failing = await h.merge(repo, {
        "deploy/secret.yaml": secretYaml("api", values.second, values.encoded),
        "deploy/web.yaml": invalid,
      });
      assert.equal((await h.deliver(failing.delivery)).status, 202);
      assert.equal((await h.finalStatus(repo, failing.sha)).at(-1)?.state, "failure");
      await waitUntil(
        "two deploy jobs completed",
        () =>
          h.logLines.filter((l) => l.includes('"msg":"job completed"') && l.includes('"queue":"ferry-deploy"'))
            .length >= 2,
        30_000,
        50,
      );

      const env = h.forge.ferryEnv();
      const credentials = [env.WEBHOOK_SECRET, env.GITLAB_TOKEN, env.GITLAB_WEBHOOK_SECRET].filter(
        (v): v is string => typeof v === "string" && v !== "",
      );
      // The private key's body lines (PEM headers are not secret).
      const keyLines = (env.PRIVATE_KEY ?? "")
        .split("\n")
        .filter((line) => line.length > 40 && !line.startsWith("-----"));
      const forbidden = [...Object.values(values).flatMap(forms), ...credentials, ...keyLines];
      assert.ok(forbidden.length >= 8, `checked only ${forbidden.length} values`);
      assert.ok(h.logLines.length > 10, `only ${h.logLines.length} log lines`);
      for (const line of h.logLines) {
        for (const value of forbidden) assert.ok(!line.includes(value), `a log line holds a secret value: ${line}`);
        // Issued tokens (GitHub installation tokens, GitLab access tokens) never appear, whatever their value.
        assert.doesNotMatch(line, /\bghs_[0-9A-Za-z]{20,}|\bglpat-[0-9A-Za-z_-]{10,}/, line);
      }

      // Every line of a deploy or plan job names the delivery, repository and commit; a release's lines also the environment.
      const parsed = h.logLines.map((l) => JSON.parse(l) as Record<string, unknown>);
      const jobLines = parsed.filter(
        (l) =>
          l.queue === "ferry-deploy" ||
          l.queue === "ferry-plan" ||
          ["released", "release failed", "planned"].includes(String(l.msg)),
      );
      assert.ok(jobLines.length >= 8, `only ${jobLines.length} job lines`);
      for (const line of jobLines) {
        for (const field of ["delivery", "repository", "sha"])
          assert.ok(typeof line[field] === "string" && line[field] !== "", `no ${field} on ${JSON.stringify(line)}`);
      }
      // Neither client retries a comment's 500 (it may have been made): the job did, after logging the client's error.
      const retried = parsed.find((l) => l.msg === "job failed, will retry");
      assert.match(JSON.stringify(retried?.err), /(GitHub|GitLab): commenting on .*: 500/);
      const releaseLines = jobLines.filter((l) => l.msg === "released" || l.msg === "release failed");
      assert.equal(releaseLines.length, 2);
      for (const line of releaseLines) assert.equal(line.environment, "staging", JSON.stringify(line));
      const released = releaseLines.find((l) => l.msg === "released");
      assert.equal(released?.delivery, releaseDelivery);
      assert.equal(released?.repository, repo.fullName);
      assert.equal(released?.sha, release.sha);
    });
  });
