import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { KubeClient } from "../src/kube/kube-client.js";
import { refOf, type ObjectRef } from "../src/kube/object-ref.js";
import { waitForHealth } from "../src/kube/wait-for-health.js";
import { ensureFakeNodes, FAKE_NODE_LABEL, FAKE_NODE_VALUE } from "./support/kwok.js";
import { createTestNamespace, testKubeConfig } from "./support/kube.js";
import { waitUntil } from "./support/wait-until.js";
import { deployment, job } from "./support/workloads.js";

/** Real rollouts: kube-controller-manager, kube-scheduler and kwok's fake nodes move these objects. */
describe("waitForHealth against real controllers", () => {
  const kc = testKubeConfig();
  let client: KubeClient;
  let namespace: string;

  before(async () => {
    client = await KubeClient.fromKubeConfig(kc);
    await ensureFakeNodes(kc);
    namespace = await createTestNamespace(kc, "health");
  });
  after(() => client.close());

  /** Creates the objects in the test's namespace and returns their refs. */
  async function create(
    ...objects: Array<Record<string, unknown> & { metadata: { name: string } }>
  ): Promise<ObjectRef[]> {
    const refs: ObjectRef[] = [];
    for (const object of objects) {
      const placed = { ...object, metadata: { ...object.metadata, namespace } } as Parameters<typeof refOf>[0];
      const ref = refOf(placed);
      await client.call("POST", await client.path({ ...ref, name: undefined }), placed);
      refs.push(ref);
    }
    return refs;
  }

  test("a Deployment, a Job and a ConfigMap are healthy once rolled out, with progress along the way", async () => {
    const refs = await create(deployment("web", { replicas: 3 }), job("migrate"), {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "settings" },
      data: { a: "1" },
    });
    const progress: string[] = [];
    const started = Date.now();
    const outcome = await waitForHealth(client, refs, { timeoutMs: 30_000, onProgress: (d) => progress.push(d) });
    assert.deepEqual(outcome, { kind: "healthy", suspended: [] });
    assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
    assert.match(progress[0] ?? "", /^waiting: [0-2]\/3 Deployments available|^waiting: .*Job complete/);
    const live = (await client.call("GET", await client.path(refs[0] as ObjectRef))) as {
      status?: { availableReplicas?: number };
    };
    assert.equal(live.status?.availableReplicas, 3);
  });

  test("a Deployment no node can schedule fails with ProgressDeadlineExceeded and the scheduler's warning", async () => {
    const refs = await create(deployment("stuck", { nodes: "none", progressDeadlineSeconds: 2 }));
    const outcome = await waitForHealth(client, refs, { timeoutMs: 30_000 });
    assert.equal(outcome.kind, "failed");
    assert.ok(outcome.kind === "failed");
    assert.equal(outcome.timedOut, false);
    assert.match(
      outcome.message,
      new RegExp(
        `^Deployment ${namespace}/stuck: ProgressDeadlineExceeded: ReplicaSet "stuck-[a-z0-9]+" has timed out progressing\\.$`,
      ),
    );
    assert.ok(
      outcome.details.some((d) =>
        /^Warning FailedScheduling on Pod .*\/stuck-.*didn't match Pod's node affinity\/selector/.test(d),
      ),
      outcome.details.join("\n"),
    );
  });

  test("a wait that times out names what was still in progress and the warning that says why", async () => {
    const refs = await create(deployment("slow", { nodes: "none" }));
    const started = Date.now();
    const outcome = await waitForHealth(client, refs, { timeoutMs: 2_000 });
    assert.ok(outcome.kind === "failed", JSON.stringify(outcome));
    assert.equal(outcome.timedOut, true);
    assert.ok(Date.now() - started < 6_000);
    assert.match(
      outcome.message,
      new RegExp(
        `^Deployment ${namespace}/slow: not ready within 2s: 0/1 replicas available; FailedScheduling: 0/\\d+ nodes are available`,
      ),
    );
  });

  test("a Job that cannot finish fails with the Job controller's reason", async () => {
    const refs = await create(job("never", { nodes: "none", activeDeadlineSeconds: 1 }));
    const outcome = await waitForHealth(client, refs, { timeoutMs: 30_000 });
    assert.ok(outcome.kind === "failed", JSON.stringify(outcome));
    assert.match(
      outcome.message,
      new RegExp(`^Job ${namespace}/never: DeadlineExceeded: Job was active longer than specified deadline`),
    );
  });

  test("a paused Deployment is not waited for: healthy at once, named as suspended", async () => {
    const paused = deployment("held", { nodes: "none" });
    const refs = await create({ ...paused, spec: { ...(paused.spec as object), paused: true } });
    const started = Date.now();
    const outcome = await waitForHealth(client, refs, { timeoutMs: 30_000 });
    assert.deepEqual(outcome, {
      kind: "healthy",
      suspended: [{ ref: refs[0], health: { status: "suspended", message: "paused: not rolled out until resumed" } }],
    });
    assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
  });

  test("a restartPolicy: Never Pod that is ready but still running is not healthy until it completes", async () => {
    const refs = await create({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "once" },
      spec: {
        restartPolicy: "Never",
        nodeSelector: { [FAKE_NODE_LABEL]: FAKE_NODE_VALUE },
        containers: [{ name: "once", image: "shop/once:1" }],
      },
    });
    const ref = refs[0] as ObjectRef;
    // kwok runs the pod and keeps it running (it completes only Job pods): ready, never done.
    const ready = async () => {
      const pod = (await client.call("GET", await client.path(ref))) as {
        status?: { conditions?: Array<{ type: string; status: string }> };
      };
      return pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;
    };
    await waitUntil("the pod ready", ready, 30_000);
    const outcome = await waitForHealth(client, refs, { timeoutMs: 2_000 });
    assert.ok(outcome.kind === "failed", JSON.stringify(outcome));
    assert.equal(outcome.timedOut, true);
    assert.equal(
      outcome.message,
      `Pod ${namespace}/once: not ready within 2s: running; restartPolicy Never: current once it succeeds`,
    );
  });

  test("a HorizontalPodAutoscaler whose target does not exist fails with the autoscaler's FailedGetScale", async () => {
    const refs = await create({
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "orphan" },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "missing" },
        minReplicas: 1,
        maxReplicas: 2,
        metrics: [
          { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } },
        ],
      },
    });
    const outcome = await waitForHealth(client, refs, { timeoutMs: 60_000 });
    assert.ok(outcome.kind === "failed", JSON.stringify(outcome));
    assert.equal(outcome.timedOut, false);
    assert.match(
      outcome.message,
      new RegExp(
        `^HorizontalPodAutoscaler ${namespace}/orphan: FailedGetScale: the HPA controller was unable to get the target's current scale: .*"missing" not found`,
      ),
    );
  });

  test("a controller's message quoting a SOPS-decrypted value shows it hidden", async () => {
    // The target's name stands for a decrypted value: the HPA controller's message quotes it.
    const decrypted = `sops${Date.now().toString(36)}value`;
    const refs = await create({
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "quoting" },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: `missing-${decrypted}` },
        minReplicas: 1,
        maxReplicas: 2,
        metrics: [
          { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } },
        ],
      },
    });
    const outcome = await waitForHealth(client, refs, { timeoutMs: 60_000, secrets: [decrypted] });
    assert.ok(outcome.kind === "failed", JSON.stringify(outcome));
    assert.match(outcome.message, /"missing-\(hidden\)" not found/);
    assert.ok(!JSON.stringify(outcome).includes(decrypted), JSON.stringify(outcome));
  });

  test("an aborted wait ends at once as cancelled", async () => {
    const refs = await create(deployment("waits", { nodes: "none" }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const started = Date.now();
    assert.deepEqual(await waitForHealth(client, refs, { timeoutMs: 60_000, signal: controller.signal }), {
      kind: "cancelled",
    });
    assert.ok(Date.now() - started < 2_000);
  });
});
