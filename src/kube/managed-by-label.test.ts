import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubeObject } from "../render/types.js";
import { MANAGED_BY_LABEL } from "./labels.js";
import { labelsToApply } from "./managed-by-label.js";

const object = (apiVersion: string, kind: string, labels?: Record<string, string>): KubeObject => ({
  apiVersion,
  kind,
  metadata: { name: "x", ...(labels === undefined ? {} : { labels }) },
});

describe("labelsToApply", () => {
  it("adds the managed-by label to the manifest's own labels", () => {
    assert.deepEqual(labelsToApply(object("apps/v1", "Deployment")), { [MANAGED_BY_LABEL]: "ferry" });
    assert.deepEqual(labelsToApply(object("batch/v1", "CronJob")), { [MANAGED_BY_LABEL]: "ferry" });
    assert.deepEqual(labelsToApply(object("v1", "ConfigMap", { app: "shop" })), {
      app: "shop",
      [MANAGED_BY_LABEL]: "ferry",
    });
  });

  it("leaves a Job or ReplicationController without labels without, so the server defaults them from the template", () => {
    assert.equal(labelsToApply(object("batch/v1", "Job")), undefined);
    assert.deepEqual(labelsToApply(object("batch/v1", "Job", {})), {});
    assert.equal(labelsToApply(object("v1", "ReplicationController")), undefined);
  });

  it("labels a Job that has labels of its own: the server defaults nothing there either way", () => {
    assert.deepEqual(labelsToApply(object("batch/v1", "Job", { team: "db" })), {
      team: "db",
      [MANAGED_BY_LABEL]: "ferry",
    });
  });

  it("goes by API group, not kind alone: a custom Job kind is labelled", () => {
    assert.deepEqual(labelsToApply(object("example.com/v1", "Job")), { [MANAGED_BY_LABEL]: "ferry" });
  });
});
