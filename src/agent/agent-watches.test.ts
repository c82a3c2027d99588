import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import pino from "pino";
import { testKubeConfig, uniqueName } from "../../test/support/kube.js";
import { startTestRedis } from "../../test/support/redis.js";
import { waitUntil } from "../../test/support/wait-until.js";
import { inventoryLocation } from "../kube/inventory.js";
import { KubeClient } from "../kube/kube-client.js";
import { reconcileSchedulerId, type ReconcileJobData } from "../queue/reconcile-request.js";
import { releaseEnvironment } from "../release/release-session.js";
import { agentAclArgs, newAgentSecret } from "./agent-acl.js";
import { agentKeys } from "./agent-keys.js";
import { AgentWatchRegistry } from "./agent-watch-registry.js";
import { startAgentWatches, type AgentWatches } from "./agent-watches.js";

const repository = "test/agent-watches";
const grant = { cluster: "test", namespaces: ["*"], clusterScopedKinds: [] };
const configMap = (name: string, v: string) => ({
  object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data: { v } },
  source: `deploy/${name}.yaml`,
});

describe("an agent's watches (real redis-server with the agent's ACL user, real kube-apiserver)", () => {
  let server: Awaited<ReturnType<typeof startTestRedis>>;
  let central: Redis;
  let agentRedis: Redis;
  let client: KubeClient;
  let watches: AgentWatches | undefined;
  const keys = agentKeys("edge-w");
  const logged: string[] = [];

  before(async () => {
    server = await startTestRedis();
    central = new Redis(server.url);
    const secret = newAgentSecret();
    await central.call("ACL", ...agentAclArgs(keys, secret));
    agentRedis = new Redis(server.url, { username: keys.user, password: secret, enableReadyCheck: false });
    client = await KubeClient.fromKubeConfig(testKubeConfig());
  });
  after(async () => {
    await watches?.stop();
    client?.close();
    agentRedis?.disconnect();
    central?.disconnect();
    await server?.stop();
  });

  test("a change by another hand is told once per environment; Ferry's own release is not", async () => {
    const namespace = uniqueName("agwatch");
    const env = (name: string) => ({ name, branch: "main", path: "deploy", cluster: "edge-w", namespace, prune: true });
    // Two environments in one namespace: one collection, one watch, each change told to its owner only.
    await releaseEnvironment({
      client,
      repository,
      env: env("x"),
      grant,
      rendered: [configMap("x", "1")],
      sha: "one",
      actor: "t",
    });
    await releaseEnvironment({
      client,
      repository,
      env: env("y"),
      grant,
      rendered: [configMap("y", "1")],
      sha: "one",
      actor: "t",
    });
    const registry = new AgentWatchRegistry(central);
    const ids: Record<string, string> = {};
    for (const name of ["x", "y"]) {
      const data: ReconcileJobData = {
        repo: { forge: "github", fullName: repository },
        branch: "main",
        environment: name,
        cluster: "edge-w",
        namespace,
        drift: "report",
        watch: true,
        everyMs: 3_600_000,
      };
      ids[name] = reconcileSchedulerId(data.repo, name, "edge-w");
      await registry.record("edge-w", ids[name], {
        data,
        inventory: inventoryLocation(repository, name, namespace).id,
        types: [{ apiVersion: "v1", kind: "ConfigMap", namespace }],
      });
    }
    watches = startAgentWatches({
      redis: agentRedis,
      keys,
      client,
      log: pino({ level: "info" }, { write: (line: string) => void logged.push(line) }),
      refreshMs: 60_000,
    });
    await watches.refresh();
    // Started, the agent has every watched environment checked: what changed while it was away is not lost.
    await waitUntil(
      "the agent's start was never told",
      async () => (await central.scard(keys.changed)) === 2,
      5_000,
      20,
    );
    assert.deepEqual((await central.smembers(keys.changed)).sort(), [ids.x, ids.y].sort());
    await central.del(keys.changed);
    const watching = logged.filter((l) => l.includes('"msg":"watching"'));
    assert.equal(watching.length, 1, logged.join(""));
    assert.match(watching[0] ?? "", new RegExp(`"path":"/api/v1/namespaces/${namespace}/configmaps"`));

    // Ferry's own release of x, then a hand edit of y: one watch delivers them in this order.
    await releaseEnvironment({
      client,
      repository,
      env: env("x"),
      grant,
      rendered: [configMap("x", "2")],
      sha: "two",
      actor: "t",
    });
    await client.call(
      "PATCH",
      `/api/v1/namespaces/${namespace}/configmaps/y?fieldManager=kubectl-edit`,
      { data: { v: "5" } },
      "application/merge-patch+json",
    );
    await waitUntil(
      "the hand edit of y was never told",
      async () => (await central.sismember(keys.changed, ids.y ?? "")) === 1,
      15_000,
      20,
    );
    assert.deepEqual(await central.smembers(keys.changed), [ids.y], "only y's environment, not x's");

    // Neither watched any more: the agent ends the collection's watch once nothing needs it.
    await registry.forget("edge-w", ids.x ?? "");
    await registry.forget("edge-w", ids.y ?? "");
    await watches.refresh();
    const stopped = logged.filter((l) => l.includes('"msg":"stopped watching"'));
    assert.equal(stopped.length, 1, logged.join(""));
    assert.match(stopped[0] ?? "", new RegExp(`"path":"/api/v1/namespaces/${namespace}/configmaps"`));
  });
});
