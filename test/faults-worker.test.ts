/**
 * A worker process SIGKILLed while it releases, 20 times at different points (before it takes the
 * job, while it validates and applies 200 objects, right after it reported): a new worker process
 * takes the stalled job over (BullMQ's stalled-job detection; FERRY_CLAIM_MS shortens the claims of
 * the dead worker) and every trial ends with the cluster at the branch head, one final status and
 * one result comment.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import { configMapYaml, FerryHarness, type TestRepo } from "./support/ferry-harness.js";
import { JobCounter } from "./support/job-counter.js";
import { waitUntil } from "./support/wait-until.js";

const ROOT = new URL("..", import.meta.url).pathname;
const OBJECTS = 200;
const CONTEXT = "ferry/deploy/staging";
const WAIT_MS = 180_000;
/** How long a dead worker's job and release lock stay claimed, for this test. */
const CLAIM_MS = 2000;

/** Where in a release a trial kills the worker. */
type KillPoint = { after: "queued" | "running" | "final"; delayMs: number };

const TRIALS: KillPoint[] = [
  ...[0, 40, 150].map((delayMs) => ({ after: "queued" as const, delayMs })),
  ...[0, 25, 50, 100, 150, 200, 250, 300, 400, 500, 650, 800, 1000, 1300, 1700].map((delayMs) => ({
    after: "running" as const,
    delayMs,
  })),
  ...[0, 30].map((delayMs) => ({ after: "final" as const, delayMs })),
];

/** A `ferry worker` process. */
interface WorkerProcess {
  child: ChildProcess;
  output(): string;
}

/** The 200 ConfigMaps of one trial's commit, in four files. */
function objects(trial: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let f = 0; f < 4; f++) {
    files[`deploy/objects-${f}.yaml`] = Array.from({ length: OBJECTS / 4 }, (_, i) =>
      configMapYaml(`cm-${f * (OBJECTS / 4) + i}`, { v: String(trial), pad: "x".repeat(100) }),
    ).join("---\n");
  }
  return files;
}

describe("worker killed in the middle of a release", () => {
  let h: FerryHarness;
  let jobs: JobCounter;
  let worker: WorkerProcess | undefined;
  let repo: TestRepo;
  /** Per trial, where the kill landed: how many objects were at the new commit. */
  const points: string[] = [];

  /** Starts `node bin/ferry.js worker` against the harness's Redis, forge and cluster, and waits until it runs. */
  const startWorker = async (): Promise<WorkerProcess> => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...h.forge.ferryEnv(),
      REDIS_URL: h.redisUrl,
      FERRY_CLAIM_MS: String(CLAIM_MS),
      LOG_FORMAT: "json",
      LOG_LEVEL: "info",
    };
    const child = spawn(process.execPath, ["bin/ferry.js", "worker", "--config", h.configFile, "--port", "0"], {
      cwd: ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-100_000)));
    child.stderr?.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-100_000)));
    await waitUntil(
      () => `worker did not start:\n${output}\n`,
      () => child.exitCode !== null || output.includes('"msg":"worker started"'),
      WAIT_MS,
      50,
    );
    if (child.exitCode !== null) throw new Error(`worker exited before it started:\n${output}`);
    return { child, output: () => output };
  };
  const kill = async (w: WorkerProcess) => {
    const exited = once(w.child, "exit");
    w.child.kill("SIGKILL");
    await exited;
  };

  before(async () => {
    // Web role here; workers are processes of their own, so they can be killed.
    h = await FerryHarness.start("github", {}, { roles: { web: true, worker: false } });
    jobs = JobCounter.open(h.redisUrl);
    repo = await h.createRepo();
    worker = await startWorker();
  });
  after(async () => {
    console.log(`faults-worker: objects at the new commit when the worker was killed: ${points.join("; ")}`);
    if (worker && worker.child.exitCode === null) {
      const exited = once(worker.child, "exit");
      worker.child.kill("SIGTERM");
      await exited;
    }
    await jobs?.close();
    await h?.close();
  });

  for (const [trial, point] of TRIALS.entries()) {
    test(`trial ${trial + 1}/${TRIALS.length}: killed ${point.delayMs} ms after the release was ${point.after}; another worker ends it at the head, one final status, one comment`, async () => {
      assert.ok(worker, "a worker runs");
      const running = worker;
      const merge = await h.merge(repo, objects(trial));
      assert.equal((await h.deliver(merge.delivery)).status, 202);
      // Wait for the point of the release this trial kills at, then the delay.
      const statuses = () => h.statuses(repo, merge.sha).filter((s) => s.context === CONTEXT);
      // The release runs once its first object is at the new commit (a quick apply posts no "deploying").
      const atCommit = async () =>
        [...(await h.list("v1", "ConfigMap", repo.namespace)).values()].some(
          (cm) => (cm as { data?: { v?: string } }).data?.v === String(trial),
        );
      const reached = async () =>
        point.after === "queued" ||
        (point.after === "running"
          ? await atCommit()
          : statuses().some((s) => s.state === "success" || s.state === "failure"));
      await waitUntil(
        () => `never reached ${point.after}; statuses ${JSON.stringify(statuses())}\n${running.output()}\n`,
        reached,
        WAIT_MS,
        5,
      );
      await new Promise((r) => setTimeout(r, point.delayMs));
      await kill(worker);
      const appliedAtKill = await h.list("v1", "ConfigMap", repo.namespace).then(
        (live) => [...live.values()].filter((cm) => (cm as { data?: { v?: string } }).data?.v === String(trial)).length,
        () => 0,
      );
      points.push(`${point.after}+${point.delayMs}ms: ${appliedAtKill}/${OBJECTS}`);

      // Another worker takes the job over once the dead one's claim lapses.
      worker = await startWorker();
      const taker = worker;
      // On a timeout, the worker's own log says where it stopped.
      await h.finalStatus(repo, merge.sha, CONTEXT, WAIT_MS).catch((error: Error) => {
        throw new Error(`${error.message}\nthe worker that took over logged:\n${taker.output().slice(-20_000)}`);
      });
      await jobs.settled(WAIT_MS);

      const all = statuses();
      const finals = all.filter((s) => s.state === "success" || s.state === "failure");
      assert.equal(finals.length, 1, `killed at ${points.at(-1)} applied: ${JSON.stringify(all)}`);
      assert.equal(all.at(-1), finals[0]);
      assert.equal(finals[0]?.state, "success", JSON.stringify(finals));
      const after = await h.list("v1", "ConfigMap", repo.namespace);
      const atHead = [...after.values()].filter(
        (cm) => (cm as { data?: { v?: string } }).data?.v === String(trial),
      ).length;
      assert.equal(atHead, OBJECTS, `${atHead} of ${OBJECTS} objects at the head`);
      const comments = h.rawComments(repo, merge.number).filter((c) => c.body.includes("Ferry release"));
      assert.equal(comments.length, 1, JSON.stringify(comments));
    });
  }
});
