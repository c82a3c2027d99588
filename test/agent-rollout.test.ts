import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { AppsV1Api, KubernetesObjectApi, type KubeConfig } from "@kubernetes/client-node";
import { Queue } from "bullmq";
import { Cluster } from "ioredis";
import { stringify } from "yaml";
import { AGENT_RELEASE_QUEUE, agentKeys } from "../src/agent/agent-keys.js";
import { CENTRAL_SECRETS } from "../src/agent/forge-credentials-in.js";
import { openRedis, type RedisClient } from "../src/queue/redis-connection.js";
import { configMapYaml, FerryHarness, type TestRepo } from "./support/ferry-harness.js";
import type { SeenStatus } from "./support/forge-doubles/forge-double.js";
import { AgentFleet } from "./support/agent-fleet.js";
import { AuditReader } from "./support/audit-records.js";
import { FerryProcess } from "./support/ferry-process.js";
import { editByHand } from "./support/kube.js";
import { JobCounter } from "./support/job-counter.js";
import { ageKey, sopsEncrypt, type AgeKey } from "./support/sops.js";
import { waitUntil } from "./support/wait-until.js";
import { deploymentYaml } from "./support/workloads.js";

/** Reached only through their agents (the server config holds no credentials for them); `hub` directly. */
const AGENTS = ["edge-1", "edge-2", "edge-3"];

/** How long an agent may go unseen: short for the test, several heartbeats long. */
const AGENT_TIMEOUT_S = 10;

const final = (s: SeenStatus) => s.state === "success" || s.state === "failure";

describe("agent clusters: three `ferry agent` processes, each with its own API server", () => {
  let fleet: AgentFleet;
  let h: FerryHarness;
  let admin: RedisClient;
  let jobs: JobCounter;
  let kcs: AgentFleet["kcs"];
  let secrets: AgentFleet["secrets"];
  let agents: AgentFleet["agents"];
  let ageIdentity: AgeKey;
  let keyDir: string | undefined;
  const redisEnv = () => fleet.redisEnv();
  const startAgent = (cluster: string) => fleet.startAgent(cluster);
  /** Redis's ACL log: on a Redis Cluster, every primary's (each node keeps its own). */
  const aclLog = async () => {
    const nodes = admin instanceof Cluster ? admin.nodes("master") : [admin];
    return JSON.stringify(await Promise.all(nodes.map((node) => node.call("ACL", "LOG"))));
  };

  before(async () => {
    // Central Ferry holds the age key that decrypts acme/*'s SOPS files; the agents hold none.
    ageIdentity = await ageKey();
    keyDir = await mkdtemp(join(tmpdir(), "ferry-agent-age-"));
    await writeFile(join(keyDir, "acme.txt"), `${ageIdentity.identity}\n`);
    fleet = await AgentFleet.start(AGENTS, {
      agentTimeoutS: AGENT_TIMEOUT_S,
      serverConfig: { sops: { keys: [{ repositories: ["acme/*"], age: { file: join(keyDir, "acme.txt") } }] } },
    });
    ({ h, kcs, secrets, agents } = fleet);
    admin = openRedis(h.redisTarget);
    jobs = JobCounter.open(h.redisTarget);
  });
  after(async () => {
    admin?.disconnect();
    await jobs?.close();
    await fleet?.close();
    if (keyDir !== undefined) await rm(keyDir, { recursive: true, force: true });
  });

  const fleetRepo = () =>
    h.createRepo({
      environments: (namespace) => [
        {
          name: "production",
          branch: "main",
          path: "deploy",
          clusters: { matchExpressions: [{ key: "ring", operator: "Exists" }] },
          namespace,
          rollout: {
            waves: [
              { name: "direct", clusters: { matchLabels: { ring: "direct" } } },
              { name: "edge", maxParallel: 2, failureBudget: 0 },
            ],
          },
        },
      ],
    });
  const configMapOn = (cluster: string, namespace: string, name: string) =>
    KubernetesObjectApi.makeApiClient(kcs.get(cluster) as KubeConfig)
      .read({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace } })
      .then(
        (o) => o as { data?: Record<string, string> },
        () => undefined,
      );
  const rolloutJson = async (statuses: SeenStatus[]) => {
    const url = statuses.find((s) => s.targetUrl)?.targetUrl ?? "";
    const res = await h.page(`${new URL(url).pathname}.json`);
    assert.equal(res.status, 200);
    return (await res.json()) as {
      rollout: { state: string; reason?: string };
      clusters: Array<{
        cluster: string;
        wave: number;
        state: string;
        startedAt?: number;
        finishedAt?: number;
        outcome?: { kind?: string; error?: string };
      }>;
    };
  };
  const finalStatus = (repo: TestRepo, sha: string, context = "ferry/deploy/production") =>
    h.finalStatus(repo, sha, context, 120_000);

  test("a merge rolls out in waves: a direct cluster, then three agent clusters; one status, one comment", async () => {
    const repo = await fleetRepo();
    const merge = await h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
    await h.deliver(merge.delivery);
    const statuses = await finalStatus(repo, merge.sha);
    const last = statuses.at(-1);
    assert.equal(last?.state, "success", JSON.stringify(statuses));
    assert.match(last?.description ?? "", /to 4\/4 clusters in 2 waves/);
    assert.equal(statuses.filter(final).length, 1);
    for (const cluster of ["hub", ...AGENTS])
      assert.deepEqual(
        (await configMapOn(cluster, repo.namespace, "a"))?.data,
        { v: "1" },
        `ConfigMap a on ${cluster}`,
      );
    const page = await rolloutJson(statuses);
    assert.equal(page.rollout.state, "succeeded");
    const hub = page.clusters.find((c) => c.cluster === "hub");
    for (const c of page.clusters.filter((c) => c.cluster !== "hub")) {
      assert.equal(c.state, "released", `${c.cluster}: ${JSON.stringify(c)}`);
      assert.ok(
        (c.startedAt ?? 0) >= (hub?.finishedAt ?? Infinity),
        `${c.cluster} started before the direct wave ended`,
      );
    }
    await h.comments(repo, merge.number, /Ferry release/);
    await waitUntil(
      () => `the comment never showed the finished rollout: ${JSON.stringify(h.rawComments(repo, merge.number))}`,
      () =>
        h
          .rawComments(repo, merge.number)
          .some((c) => /production/.test(c.body) && /edge/.test(c.body) && /succeeded|deployed/.test(c.body)),
      30_000,
    );
    assert.equal(h.rawComments(repo, merge.number).filter((c) => /Ferry release/.test(c.body)).length, 1);
    // Each agent released its own cluster; Redis refused none of their commands on the way.
    for (const [cluster, agent] of agents)
      assert.match(agent.output(), /"msg":"release finished"/, `${cluster}'s agent released nothing`);
    const refused = await aclLog();
    assert.equal(/ferry-agent-/.test(refused), false, `Redis refused an agent: ${refused}`);
  });

  test("a change's plan shows live diffs on agent clusters, computed by their agents", async () => {
    const repo = await fleetRepo();
    const merge = await h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
    await h.deliver(merge.delivery);
    assert.equal((await finalStatus(repo, merge.sha)).at(-1)?.state, "success");
    // Someone edits edge-2's copy by hand: only its agent can see that, and its plan differs.
    await editByHand(
      kcs.get("edge-2") as KubeConfig,
      { apiVersion: "v1", kind: "ConfigMap", namespace: repo.namespace, name: "a" },
      { data: { v: "by-hand" } },
      { manager: "by-hand" },
    );
    const pr = await h.openPullRequest(repo, { "deploy/a.yaml": configMapYaml("a", { v: "2" }) });
    await h.deliver(pr.delivery);
    const [comment = ""] = await h.comments(repo, pr.number, /Ferry plan/, 60_000);
    assert.match(comment, /\| production \| hub, edge-1, edge-3 \| 0 \| 1 \| 0 \| 1 to change \|/, comment);
    assert.match(comment, /\| production \| edge-2 \| 0 \| 1 \| 0 \| 1 to change \|/, comment);
    assert.match(comment, /-\s+v: by-hand/, comment);
    for (const cluster of AGENTS)
      assert.match(agents.get(cluster)?.output() ?? "", /"msg":"planned"/, `${cluster}'s agent planned nothing`);
  });

  test("no forge credential reaches an agent: not in its environment, its memory or its logs, and it refuses one", async () => {
    const forgeEnv = h.forge.ferryEnv();
    const forgeSecrets = CENTRAL_SECRETS.map((name) => forgeEnv[name]).filter(
      (v): v is string => typeof v === "string" && v.length >= 8,
    );
    assert.ok(forgeSecrets.length > 0, "the harness's forge has credentials to look for");
    for (const [cluster, agent] of agents) {
      const environ = await readFile(`/proc/${agent.pid}/environ`, "utf8");
      for (const secret of forgeSecrets) {
        assert.equal(environ.includes(secret), false, `${cluster}'s agent has a forge credential in its environment`);
        assert.equal(agent.output().includes(secret), false, `${cluster}'s agent logged a forge credential`);
      }
      // Its own Redis secret is never logged either.
      assert.equal(agent.output().includes(secrets.get(cluster) ?? "?"), false, `${cluster}'s agent logged its secret`);
    }
    // Nor in memory: a heap snapshot of an agent that released (config, job data, everything it holds).
    const heap = await fleet.heapSnapshot("edge-1");
    // The snapshot holds strings as JSON does; its own Redis secret, which it uses, proves the look sees them.
    const inHeap = (value: string) => heap.includes(JSON.stringify(value).slice(1, -1));
    assert.ok(inHeap(secrets.get("edge-1") ?? "?"), "the snapshot does not show the agent's own secret");
    for (const secret of forgeSecrets)
      assert.equal(inHeap(secret), false, "edge-1's agent holds a forge credential in memory");
    // An agent started with a forge credential refuses to run, naming the variable but not its value.
    const token = "glpat-agent-must-not-hold-this";
    const refused = await FerryProcess.startAgent("edge-1", [], { ...redisEnv(), GITLAB_TOKEN: token }).then(
      () => "started",
      (error: Error) => error.message,
    );
    assert.match(refused, /remove GITLAB_TOKEN from its environment/);
    assert.equal(refused.includes(token), false);
  });

  test("an agent's credentials reach its own cluster's keys only, refused (NOPERM) on whichever node holds another's", async () => {
    const own = agentKeys("edge-1");
    const auth = { username: own.user, password: secrets.get("edge-1") ?? "" };
    // As the agent connects: no per-node ready check (it sends INFO, which the user may not).
    const connection = openRedis(
      { ...h.redisTarget, auth: { ...h.redisTarget.auth, ...auth } },
      { enableReadyCheck: false, maxRetriesPerRequest: 1 },
    );
    try {
      assert.notEqual(await connection.get(own.heartbeat), null, "edge-1's agent cannot read its own heartbeat");
      for (const other of ["edge-2", "edge-3"]) {
        const keys = agentKeys(other);
        const theirs = new Queue(AGENT_RELEASE_QUEUE, { connection, prefix: keys.prefix, skipVersionCheck: true });
        const refusals: Array<[string, () => Promise<unknown>]> = [
          ["count its jobs", () => theirs.getJobCounts()],
          ["add a job", () => theirs.add("release", { cluster: other })],
          ["delete its jobs (drain)", () => theirs.drain()],
          [
            "take a job (BZPOPMIN its marker)",
            () => connection.bzpopmin(`${keys.prefix}:${AGENT_RELEASE_QUEUE}:marker`, 1),
          ],
          ["read its heartbeat", () => connection.get(keys.heartbeat)],
          ["fake its heartbeat", () => connection.set(keys.heartbeat, "1")],
        ];
        for (const [what, attempt] of refusals)
          await assert.rejects(attempt(), /NOPERM|can't access/, `edge-1's agent could ${what} of ${other}`);
        await theirs.close();
      }
    } finally {
      connection.disconnect();
    }
    if (admin instanceof Cluster) {
      // The three agents' slots sit on three different primaries: the rule was refused, and applied, on each.
      const holders = await Promise.all(
        AGENTS.map(async (cluster) => {
          const key = agentKeys(cluster).heartbeat;
          const owns = await Promise.all(
            (admin as Cluster).nodes("master").map((node) => node.exists(key).catch(() => 0)),
          );
          return owns.indexOf(1);
        }),
      );
      assert.equal(new Set(holders).size, AGENTS.length, `agents' keys by primary: ${holders.join(", ")}`);
    }
  });

  test("a SOPS-encrypted Secret is decrypted centrally and applied by the agent; its value shows nowhere", async () => {
    const password = `sops-${randomBytes(10).toString("hex")}`;
    const leaks = [password, Buffer.from(password).toString("base64")];
    const repo = await h.createRepo({
      environments: (namespace) => [{ name: "edge", branch: "main", path: "deploy", cluster: "edge-2", namespace }],
    });
    const secretYaml = stringify({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "db" },
      stringData: { password },
    });
    const encrypted = await sopsEncrypt(secretYaml, [ageIdentity.recipient], { encryptedRegex: "^(data|stringData)$" });
    assert.equal(encrypted.includes(password), false, "the file in Git holds the value encrypted");
    const merge = await h.merge(repo, { "deploy/secret.yaml": encrypted });
    await h.deliver(merge.delivery);
    const statuses = await finalStatus(repo, merge.sha, "ferry/deploy/edge");
    assert.equal(statuses.at(-1)?.state, "success", JSON.stringify(statuses));
    // The agent applied the decrypted value to its cluster (central Ferry cannot reach edge-2).
    const live = (await KubernetesObjectApi.makeApiClient(kcs.get("edge-2") as KubeConfig).read({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "db", namespace: repo.namespace },
    })) as { data?: Record<string, string> };
    assert.equal(Buffer.from(live.data?.password ?? "", "base64").toString(), password);
    assert.match(agents.get("edge-2")?.output() ?? "", /"msg":"release finished"/);
    // Neither the value nor its base64 in the agent's logs, the statuses or the result comment.
    const [comment = ""] = await h.comments(repo, merge.number, /Ferry release/);
    const agent = agents.get("edge-2");
    const environ = await readFile(`/proc/${agent?.pid ?? 0}/environ`, "utf8");
    for (const leak of leaks) {
      assert.equal(agent?.output().includes(leak), false, "the agent logged the decrypted value");
      assert.equal(comment.includes(leak), false, "the comment shows the decrypted value");
      assert.equal(JSON.stringify(h.statuses(repo, merge.sha)).includes(leak), false, "a status shows it");
    }
    // The agent never held the key that decrypts it.
    assert.equal(environ.includes(ageIdentity.identity), false, "the agent has the age key");
  });

  test("an agent SIGKILLed mid-release: the restarted one finishes it, with one final status", async () => {
    const repo = await h.createRepo({
      environments: (namespace) => [
        { name: "edge", branch: "main", path: "deploy", cluster: "edge-1", namespace, wait: { timeout: "3m" } },
      ],
    });
    const { namespace } = repo;
    const merge = await h.merge(repo, { "deploy/web.yaml": deploymentYaml("web") });
    await h.deliver(merge.delivery);
    // A bare API server runs no controllers: the Deployment waits until the test plays its controller.
    await waitUntil(
      () => `the agent never reported its health wait: ${JSON.stringify(h.statuses(repo, merge.sha))}`,
      () => h.statuses(repo, merge.sha).some((s) => /waiting/.test(s.description)),
      60_000,
    );
    await agents.get("edge-1")?.stop("SIGKILL");
    const restarted = await startAgent("edge-1");
    await waitUntil(
      () => `the restarted agent never took the release over:\n${restarted.output()}`,
      () => /lapsed; it runs again|"msg":"released"/.test(restarted.output()),
      60_000,
    );
    const apps = (kcs.get("edge-1") as KubeConfig).makeApiClient(AppsV1Api);
    const web = await apps.readNamespacedDeployment({ name: "web", namespace });
    web.status = {
      observedGeneration: web.metadata?.generation ?? 1,
      replicas: 1,
      updatedReplicas: 1,
      readyReplicas: 1,
      availableReplicas: 1,
    };
    await apps.replaceNamespacedDeploymentStatus({ name: "web", namespace, body: web });
    const statuses = await finalStatus(repo, merge.sha, "ferry/deploy/edge");
    assert.equal(statuses.at(-1)?.state, "success", JSON.stringify(statuses));
    assert.match(restarted.output(), /"msg":"release finished"/);
    // Whatever the restarted agent and Ferry's retries did, once every job ran the commit has one final status.
    await jobs.settled(60_000);
    assert.equal(h.statuses(repo, merge.sha).filter((s) => s.context === "ferry/deploy/edge" && final(s)).length, 1);
  });

  test("a newer merge during an agent's long health wait supersedes it at once, as on a direct cluster", async () => {
    const repo = await h.createRepo({
      environments: (namespace) => [
        { name: "edge", branch: "main", path: "deploy", cluster: "edge-2", namespace, wait: { timeout: "5m" } },
      ],
    });
    const older = await h.merge(repo, { "deploy/web.yaml": deploymentYaml("web") });
    await h.deliver(older.delivery);
    // The bare API server runs no controller: the agent waits for a Deployment that never becomes available.
    await waitUntil(
      () => `the agent never reported its health wait: ${JSON.stringify(h.statuses(repo, older.sha))}`,
      () => h.statuses(repo, older.sha).some((s) => /waiting/.test(s.description)),
      60_000,
    );
    // The newer commit drops the Deployment: nothing to wait for once it is released.
    const newer = await h.merge(repo, { "deploy/web.yaml": null, "deploy/a.yaml": configMapYaml("a", { v: "1" }) });
    const started = Date.now();
    await h.deliver(newer.delivery);
    const olderFinal = (await finalStatus(repo, older.sha, "ferry/deploy/edge")).at(-1);
    assert.equal(olderFinal?.state, "success", JSON.stringify(olderFinal));
    assert.match(olderFinal?.description ?? "", new RegExp(`^superseded by ${newer.sha.slice(0, 7)}`));
    const newerFinal = (await finalStatus(repo, newer.sha, "ferry/deploy/edge")).at(-1);
    assert.equal(newerFinal?.state, "success", JSON.stringify(newerFinal));
    assert.ok(Date.now() - started < 60_000, "the newer release waited out the older one's health wait");
    assert.deepEqual((await configMapOn("edge-2", repo.namespace, "a"))?.data, { v: "1" });
  });

  test("an agent that never comes back: unreachable after agentTimeout; the budget halts the rollout", async () => {
    await agents.get("edge-3")?.stop("SIGKILL");
    const repo = await fleetRepo();
    const merge = await h.merge(repo, { "deploy/a.yaml": configMapYaml("a", { v: "2" }) });
    const sent = Date.now();
    await h.deliver(merge.delivery);
    const statuses = await finalStatus(repo, merge.sha);
    const last = statuses.at(-1);
    assert.equal(last?.state, "failure", JSON.stringify(statuses));
    assert.ok(Date.now() - sent >= AGENT_TIMEOUT_S * 1000, "reported unreachable before agentTimeout passed");
    assert.equal(statuses.filter(final).length, 1);
    // The status counts the cluster as unreachable, against the wave's budget of 0.
    assert.match(last?.description ?? "", /^halted in wave 2\/2 \(edge\): 1 unreachable \(budget 0\)/);
    const page = await rolloutJson(statuses);
    assert.equal(page.rollout.state, "failed");
    assert.match(page.rollout.reason ?? "", /\(1 unreachable\) in wave edge \(failure budget 0\)/);
    const edge3 = page.clusters.find((c) => c.cluster === "edge-3");
    assert.equal(edge3?.state, "unreachable");
    assert.equal(edge3?.outcome?.kind, "unreachable");
    assert.match(edge3?.outcome?.error ?? "", /^unreachable: the agent of cluster edge-3 was not seen for 10s/);
    // The rollout page lists it under its own state; the comment lists it with the failures, as unreachable.
    const url = new URL(statuses.find((s) => s.targetUrl)?.targetUrl ?? "");
    const html = await (await h.page(`${url.pathname}?state=unreachable`)).text();
    assert.match(html, /<td data-label="state" class="s-unreachable">unreachable<\/td>/);
    await waitUntil(
      () => `the comment never listed edge-3 as unreachable: ${JSON.stringify(h.rawComments(repo, merge.number))}`,
      () =>
        h
          .rawComments(repo, merge.number)
          .some(
            (c) =>
              /\*\*Failed or unreachable clusters\*\* \(1\)/.test(c.body) &&
              /- \*\*edge-3\*\* \(wave 2 · edge\): unreachable: the agent of cluster edge-3/.test(c.body),
          ),
      30_000,
    );
    // The audit trail records the release as unreachable, with why.
    const audit = AuditReader.open(h.redisTarget);
    try {
      const records = await audit.records("github", repo.fullName, "production");
      const release = records.find((r) => r.action === "release" && r.cluster === "edge-3" && r.sha === merge.sha);
      assert.equal(release?.outcome, "unreachable", JSON.stringify(records));
      assert.match(release?.reason ?? "", /^unreachable: the agent of cluster edge-3 was not seen/);
    } finally {
      audit.close();
    }
    assert.equal(await configMapOn("edge-3", repo.namespace, "a"), undefined);
    // Its job is gone and marked cancelled: an agent that comes back later finds nothing to apply.
    const rolloutId = new URL(statuses.find((s) => s.targetUrl)?.targetUrl ?? "").pathname.split("/").pop() ?? "";
    const jobId = `release-${rolloutId}-edge-3`;
    assert.equal(await admin.exists(`{ferry-agent:edge-3}:release:${jobId}`), 0);
    assert.match((await admin.get(`{ferry-agent:edge-3}:cancel:${jobId}`)) ?? "", /"kind":"abandoned"/);
  });
});
