import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import type { Redis } from "ioredis";
import { testKubeConfig, uniqueName } from "../../test/support/kube.js";
import { startTestRedis } from "../../test/support/redis.js";
import { agentAclArgs, newAgentSecret } from "../agent/agent-acl.js";
import { agentKeys, cancelKey } from "../agent/agent-keys.js";
import { AgentQueues } from "../agent/agent-queues.js";
import { AgentUnreachableError } from "../agent/reconcile-through-agent.js";
import { startAgent, type RunningAgent } from "../agent/start-agent.js";
import { inventoryLocation } from "../kube/inventory.js";
import { KubeClient } from "../kube/kube-client.js";
import { createLogger } from "../logger.js";
import { connectRedis } from "../queue/redis-connection.js";
import { releaseEnvironment } from "../release/release-session.js";
import type { RenderedObject } from "../render/types.js";
import { agentCluster, directCluster, type ClusterCheck } from "./reconcile-cluster.js";

/**
 * The same cluster reconciled directly and through a real agent (`startAgent`, logged in as its own
 * Redis ACL user) on a real redis-server and a real kube-apiserver: the findings must be the same.
 */
describe("reconciling a cluster directly and through its agent", () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let admin: Redis;
  let client: KubeClient;
  let agents: AgentQueues;
  let agent: RunningAgent;
  const keys = agentKeys("edge-rc");

  before(async () => {
    redis = await startTestRedis();
    admin = connectRedis(redis.url);
    const secret = newAgentSecret();
    await admin.call("ACL", ...agentAclArgs(keys, secret));
    client = await KubeClient.fromKubeConfig(testKubeConfig());
    agents = new AgentQueues(admin);
    const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });
    agent = await startAgent({
      cluster: keys.cluster,
      redis: { kind: "url", url: redis.url, auth: { username: keys.user, password: secret } },
      client: await KubeClient.fromKubeConfig(testKubeConfig()),
      log: createLogger({ level: "warn", destination: quiet }),
      port: 0,
      heartbeatMs: 200,
      claimMs: 5_000,
    });
  });
  after(async () => {
    await agent?.close();
    await agents?.close();
    client?.close();
    admin?.disconnect();
    await redis?.stop();
  });

  const repository = "test/reconcile-cluster";
  const grant = { cluster: "test", namespaces: ["*"], clusterScopedKinds: [] };
  const rendered: RenderedObject[] = [
    {
      object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "flags" }, data: { v: "1" } },
      source: "deploy/flags.yaml",
    },
  ];

  it("finds the same drift both ways, and heals through the agent when asked", async () => {
    const namespace = uniqueName("rc");
    const env = { name: "edge", branch: "main", path: "deploy", cluster: "test", namespace, prune: true };
    await releaseEnvironment({ client, repository, env, grant, rendered, sha: "one", actor: "test" });
    await client.call(
      "PATCH",
      `/api/v1/namespaces/${namespace}/configmaps/flags?fieldManager=kubectl-edit`,
      { data: { v: "5" } },
      "application/merge-patch+json",
    );
    const at = inventoryLocation(repository, "edge", namespace);
    const direct = directCluster(client);
    const through = agentCluster({ agents, cluster: keys.cluster, timeoutMs: 10_000 });
    const inventory = await through.inventory(at, repository, "edge");
    assert.deepEqual(inventory, await direct.inventory(at, repository, "edge"));
    const check: ClusterCheck = { at, inventory, repository, sha: "one", env, grant, rendered };
    const found = await through.check(check);
    assert.deepEqual(found, await direct.check(check));
    assert.equal(found.objects[0]?.drift?.kind, "drifted");

    const healed = await through.check({ ...check, heal: { actor: "lead" } });
    assert.deepEqual(
      healed.healed?.restored.map((r) => r.name),
      ["flags"],
    );
    const after = await direct.check({ ...check, inventory: await direct.inventory(at, repository, "edge") });
    assert.deepEqual(
      after.objects.map((o) => o.drift),
      [undefined],
    );
    // Every command the agent sent for it is one its ACL user may send.
    const refused = JSON.stringify(await admin.call("ACL", "LOG"));
    assert.equal(refused.includes(keys.user), false, `Redis refused the agent: ${refused}`);
  });

  it("an agent that never answers is unreachable after the timeout: its job removed and marked abandoned", async () => {
    const away = agentKeys("edge-away");
    const through = agentCluster({ agents, cluster: away.cluster, timeoutMs: 800 });
    const started = Date.now();
    await assert.rejects(
      through.inventory(inventoryLocation(repository, "edge", "ns"), repository, "edge"),
      (error: Error) =>
        error instanceof AgentUnreachableError &&
        /^unreachable: the agent of cluster edge-away was not seen for 1s \(agentTimeout\)$/.test(error.message),
    );
    assert.ok(Date.now() - started >= 800, "unreachable before the timeout passed");
    const { queue } = agents.of(away.cluster);
    assert.deepEqual(await queue.getJobCounts("wait", "active"), { wait: 0, active: 0 });
    const marks = await admin.keys(`${away.prefix}:cancel:*`);
    assert.equal(marks.length, 1);
    assert.match((await admin.get(marks[0] ?? "")) ?? "", /"kind":"abandoned"/);
    assert.ok(marks[0]?.startsWith(cancelKey(away, "inventory-")));
  });
});
