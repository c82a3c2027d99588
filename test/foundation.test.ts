import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { KubernetesObjectApi, PatchStrategy, type V1ConfigMap } from "@kubernetes/client-node";
import { Queue, Worker } from "bullmq";
import { connectRedis } from "../src/queue/redis-connection.js";
import { createTestNamespace, testKubeConfig } from "./support/kube.js";
import { startTestRedis } from "./support/redis.js";

describe("the test environment is made of real parts", () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  before(async () => (redis = await startTestRedis()));
  after(async () => redis.stop());

  test("a job runs through a real BullMQ queue on a real redis-server", async () => {
    const connections = [connectRedis(redis.url), connectRedis(redis.url)] as const;
    const queue = new Queue("foundation", { connection: connections[0] });
    const worker = new Worker<{ n: number }, number>("foundation", (job) => Promise.resolve(job.data.n * 2), {
      connection: connections[1],
    });
    const finished = new Promise<[string | undefined, number]>((resolve) =>
      worker.on("completed", (job, result) => resolve([job.id, result])),
    );
    try {
      await queue.add("double", { n: 21 }, { jobId: "double-21" });
      assert.deepEqual(await finished, ["double-21", 42]);
      // The same job id again is the same job: this is what makes redelivered webhooks harmless.
      const again = await queue.add("double", { n: 99 }, { jobId: "double-21" });
      assert.equal(again.id, "double-21");
      const counts = await queue.getJobCounts("completed", "waiting");
      assert.deepEqual([counts.completed, counts.waiting], [1, 0]);
    } finally {
      await worker.close();
      await queue.close();
      for (const connection of connections) connection.disconnect();
    }
  });
});

describe("server-side apply against a real kube-apiserver", () => {
  const kc = testKubeConfig();
  const api = KubernetesObjectApi.makeApiClient(kc);
  let namespace: string;
  before(async () => (namespace = await createTestNamespace(kc, "foundation")));

  const configMap = (data: Record<string, string>): V1ConfigMap => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "settings", namespace },
    data,
  });

  test("applies a ConfigMap with field manager ferry and reads it back", async () => {
    await api.patch(configMap({ color: "blue" }), undefined, undefined, "ferry", false, PatchStrategy.ServerSideApply);
    const live = await api.read<V1ConfigMap>({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "settings", namespace },
    });
    assert.deepEqual(live.data, { color: "blue" });
    assert.deepEqual(
      live.metadata?.managedFields?.map((f) => [f.manager, f.operation]),
      [["ferry", "Apply"]],
    );
  });

  test("another field manager changing ferry's field conflicts unless forced", async () => {
    await api.patch(configMap({ color: "blue" }), undefined, undefined, "ferry", false, PatchStrategy.ServerSideApply);
    await assert.rejects(
      api.patch(
        configMap({ color: "red" }),
        undefined,
        undefined,
        "someone-else",
        false,
        PatchStrategy.ServerSideApply,
      ),
      (error: { code?: number; body?: string }) => {
        assert.equal(error.code, 409);
        const status = JSON.parse(String(error.body)) as { reason: string; message: string };
        assert.equal(status.reason, "Conflict");
        assert.match(status.message, /conflict with "ferry": \.data\.color/);
        return true;
      },
    );
    await api.patch(
      configMap({ color: "red" }),
      undefined,
      undefined,
      "someone-else",
      true,
      PatchStrategy.ServerSideApply,
    );
    const live = await api.read<V1ConfigMap>({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "settings", namespace },
    });
    assert.equal(live.data?.color, "red");
    assert.deepEqual(
      live.metadata?.managedFields?.map((f) => f.manager),
      ["someone-else"],
    );
  });
});
