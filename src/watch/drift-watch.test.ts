import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ReconcileJobData } from "../queue/reconcile-request.js";
import { watchTargets } from "./drift-watch.js";
import type { WatchedEnvironment } from "./watch-registry.js";

const watchedEnv = (environment: string, cluster: string, collections: string[]): WatchedEnvironment => ({
  data: {
    repo: { forge: "github", fullName: "acme/shop", installationId: 1 },
    branch: "main",
    environment,
    cluster,
    namespace: "shop",
    drift: "report",
    watch: true,
    everyMs: 600_000,
  } satisfies ReconcileJobData,
  inventory: `shop/ferry-${environment}`,
  collections,
});

describe("watchTargets", () => {
  it("makes one watch per (cluster, collection), covering every environment with objects there", () => {
    const cms = "/api/v1/namespaces/shop/configmaps";
    const deployments = "/apis/apps/v1/namespaces/shop/deployments";
    const { targets, environments } = watchTargets([
      watchedEnv("a", "eu", [cms, deployments]),
      watchedEnv("b", "eu", [cms]),
      watchedEnv("a", "us", [cms]),
    ]);
    assert.deepEqual(
      targets.map((t) => [t.cluster, t.path, t.labelSelector]),
      [
        ["eu", cms, "app.kubernetes.io/managed-by=ferry"],
        ["eu", deployments, "app.kubernetes.io/managed-by=ferry"],
        ["us", cms, "app.kubernetes.io/managed-by=ferry"],
      ],
    );
    assert.deepEqual(
      targets.map((t) => (environments.get(t.id) ?? []).map((e) => `${e.data.environment}@${e.data.cluster}`)),
      [["a@eu", "b@eu"], ["a@eu"], ["a@us"]],
    );
    assert.equal(new Set(targets.map((t) => t.id)).size, 3, "ids are distinct");
    assert.deepEqual(watchTargets([watchedEnv("a", "eu", [cms])]).targets[0]?.id, targets[0]?.id, "and stable");
  });
});
