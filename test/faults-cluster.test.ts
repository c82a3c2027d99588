/**
 * The cluster's API server down during a release, on a control plane of this test's own
 * (scripts/control-plane up), whose kube-apiserver it stops and starts again by hand on the same
 * port: down for 30 s, the release retries with backoff, its status says so, and it succeeds once
 * the API server is back; down for longer than the retry budget, the release fails clearly.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { openSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { DEPLOY_QUEUE, deployJobId } from "../src/queue/deploy-request.js";
import type { DeployRequest } from "../src/domain/requests.js";
import { connectRedis } from "../src/queue/redis-connection.js";
import { configMapYaml, FerryHarness, type TestRepo } from "./support/ferry-harness.js";
import type { GitHubDouble } from "./support/forge-doubles/github-double.js";
import { JobCounter } from "./support/job-counter.js";
import { waitUntil } from "./support/wait-until.js";

const ROOT = new URL("..", import.meta.url).pathname;
const CONTEXT = "ferry/deploy/staging";
const OUTAGE_MS = 30_000;
const WAIT_MS = 300_000;

/** This test's own kube-apiserver: stopped and started again by hand with the command line it was started with. */
class ApiServer {
  private constructor(
    private readonly dir: string,
    private readonly argv: string[],
  ) {}

  /** The kube-apiserver `scripts/control-plane up dir` started. */
  static of(dir: string): ApiServer {
    const pid = Number(readFileSync(join(dir, "kube-apiserver.pid"), "utf8").trim());
    return new ApiServer(
      dir,
      readFileSync(`/proc/${pid}/cmdline`, "utf8")
        .split("\0")
        .filter((a) => a !== ""),
    );
  }

  /** Kills it (as a crash would), and waits until it is gone. */
  async stop(): Promise<void> {
    const pid = Number(readFileSync(join(this.dir, "kube-apiserver.pid"), "utf8").trim());
    process.kill(pid, "SIGKILL");
    // Signal 0 throws once no such process is left; as before, ten seconds is enough to go on regardless.
    const gone = () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    };
    await waitUntil(`kube-apiserver ${pid} did not exit`, gone, 10_000).catch(() => undefined);
  }

  /** Starts it again, same binary, same flags, same port, same certificates. */
  start(): void {
    const [binary = "", ...args] = this.argv;
    const log = openSync(join(this.dir, "kube-apiserver.log"), "a");
    const child = spawn(binary, args, { detached: true, stdio: ["ignore", log, log] });
    child.unref();
    writeFileSync(join(this.dir, "kube-apiserver.pid"), `${child.pid}\n`);
  }
}

describe("the cluster down during a release", () => {
  let dir: string;
  let api: ApiServer;
  let h: FerryHarness;
  let jobs: JobCounter;
  let queueRedis: Redis;
  let queue: Queue<DeployRequest>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "ferry-faults-cluster-"));
    const kubeconfig = execFileSync(join(ROOT, "scripts/control-plane"), ["up", join(dir, "control-plane")], {
      encoding: "utf8",
    }).trim();
    // Installation's part on this cluster of its own, as scripts/test does on the run's.
    execFileSync(process.execPath, [join(ROOT, "bin/ferry.js"), "setup-cluster", "--kubeconfig", kubeconfig]);
    api = ApiServer.of(join(dir, "control-plane"));
    h = await FerryHarness.start("github", {}, { kubeconfig });
    jobs = JobCounter.open(h.redisUrl);
    queueRedis = connectRedis(h.redisUrl);
    queue = new Queue<DeployRequest>(DEPLOY_QUEUE, { connection: queueRedis });
  });
  after(async () => {
    await queue?.close();
    queueRedis?.disconnect();
    await jobs?.close();
    await h?.close();
    execFileSync(join(ROOT, "scripts/control-plane"), ["down", join(dir, "control-plane")]);
    await rm(dir, { recursive: true, force: true });
  });

  /** Waits until the API server answers again. */
  const apiBack = () => waitUntil("the API server did not come back", () => h.namespaceExists("default"), WAIT_MS, 250);
  const objects = (v: string) =>
    Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`deploy/cm-${i}.yaml`, configMapYaml(`cm-${i}`, { v })]));
  const atVersion = async (repo: TestRepo, v: string) =>
    [...(await h.list("v1", "ConfigMap", repo.namespace)).values()].filter(
      (cm) => (cm as { data?: { v?: string } }).data?.v === v,
    ).length;

  test(`down for ${OUTAGE_MS / 1000} s in the middle of a release: the status says it is retrying, and the release succeeds once the API server is back`, async () => {
    const repo = await h.createRepo();
    const first = await h.merge(repo, objects("1"));
    await h.deliver(first.delivery);
    assert.equal((await h.finalStatus(repo, first.sha, CONTEXT, WAIT_MS)).at(-1)?.state, "success");

    const merge = await h.merge(repo, objects("2"));
    // The API server goes down once the release has started: when its job fetches the commit's code.
    let stopped = false;
    (h.forge as GitHubDouble).sim.holdNext({ method: "GET", pathPrefix: `/repos/${repo.fullName}/tarball/` }, () =>
      api.stop().then(() => void (stopped = true)),
    );
    await h.deliver(merge.delivery);
    await waitUntil("the release never fetched its code", () => stopped, WAIT_MS, 5);
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    const during = h.statuses(repo, merge.sha).filter((s) => s.context === CONTEXT);
    api.start();
    await apiBack();

    const statuses = await h.finalStatus(repo, merge.sha, CONTEXT, WAIT_MS);
    await jobs.settled(WAIT_MS);
    const retrying = during.filter((s) =>
      /^retrying \(attempt \d+\/8\): Kubernetes API 127\.0\.0\.1:\d+ unreachable/.test(s.description),
    );
    assert.ok(
      retrying.length > 0,
      `the status said it was retrying while the API server was down: ${JSON.stringify(during)}`,
    );
    const finals = statuses.filter((s) => s.state === "success" || s.state === "failure");
    assert.equal(finals.length, 1, JSON.stringify(statuses));
    assert.match(finals[0]?.description ?? "", /^deployed: \+0 ~20 −0/);
    assert.equal(await atVersion(repo, "2"), 20, "every object at the new commit");
    console.log(
      `faults-cluster: down ${OUTAGE_MS / 1000} s; statuses ${statuses.map((s) => `${s.state}: ${s.description.slice(0, 60)}`).join(" | ")}`,
    );
  });

  test("down for longer than the retry budget (3 attempts, 1 s backoff, for this job): a clear failure", async () => {
    const repo = await h.createRepo();
    const merge = await h.merge(repo, objects("1"));
    // Queued as the intake queues it, with a small retry budget, so the budget runs out in seconds.
    const request: DeployRequest = {
      repo: { forge: "github", fullName: repo.fullName, installationId: 1 },
      branch: "main",
      sha: merge.sha,
      actor: "dev",
      deliveryId: "budget",
      change: merge.number,
    };
    await api.stop();
    try {
      await queue.add("deploy", request, {
        jobId: deployJobId(request),
        attempts: 3,
        backoff: { type: "exponential", delay: 1000 },
      });
      const statuses = await h.finalStatus(repo, merge.sha, CONTEXT, WAIT_MS);
      await jobs.settled(WAIT_MS);
      const finals = statuses.filter((s) => s.state === "success" || s.state === "failure");
      assert.equal(finals.length, 1, JSON.stringify(statuses));
      assert.equal(finals[0]?.state, "failure");
      assert.match(
        finals[0]?.description ?? "",
        /^gave up after 3 attempts: Kubernetes API 127\.0\.0\.1:\d+ unreachable/,
      );
      assert.deepEqual(
        statuses.filter((s) => s.description.startsWith("retrying")).map((s) => s.description.slice(0, 22)),
        ["retrying (attempt 1/3)", "retrying (attempt 2/3)"],
      );
      const [comment = ""] = await h.comments(repo, merge.number, /Ferry release/, WAIT_MS);
      assert.match(comment, /staging failed/);
      assert.match(comment, /gave up after 3 attempts: Kubernetes API/);
    } finally {
      api.start();
      await apiBack();
    }
    assert.equal(await h.namespaceExists(repo.namespace), false, "nothing was applied");
  });
});
