import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ObjectRef } from "../kube/object-ref.js";
import { SUMMARY_LENGTH, summarizeDrift } from "./summarize-drift.js";
import type { Drift } from "./types.js";

const web: ObjectRef = { apiVersion: "apps/v1", kind: "Deployment", namespace: "shop", name: "web" };
const config: ObjectRef = { apiVersion: "v1", kind: "ConfigMap", namespace: "shop", name: "web-config" };
const scaled: Drift = {
  kind: "drifted",
  fields: [{ path: "spec.replicas", desired: "3", live: "5", manager: "kubectl-edit", operation: "Update" }],
};

describe("summarizeDrift", () => {
  it("counts drifted objects and shows the first one's first change", () => {
    const line = summarizeDrift([
      { ref: web, drift: scaled },
      { ref: config, drift: { kind: "gone" } },
    ]);
    assert.equal(line, "2 objects drifted: Deployment shop/web spec.replicas 3→5 by kubectl-edit");
  });

  it("leaves out objects in sync and ignored ones", () => {
    assert.equal(summarizeDrift([]), undefined);
    assert.equal(
      summarizeDrift([
        { ref: web, drift: undefined },
        { ref: config, drift: { kind: "ignored" } },
      ]),
      undefined,
    );
    assert.equal(
      summarizeDrift([
        { ref: config, drift: { kind: "ignored" } },
        { ref: web, drift: scaled },
      ]),
      "1 object drifted: Deployment shop/web spec.replicas 3→5 by kubectl-edit",
    );
  });

  it("says when the first object is gone or taken over, and when a field was removed by someone unknown", () => {
    assert.equal(
      summarizeDrift([{ ref: config, drift: { kind: "gone" } }]),
      "1 object drifted: ConfigMap shop/web-config deleted",
    );
    assert.equal(
      summarizeDrift([{ ref: web, drift: { kind: "taken-over", by: "shop/ferry-staging-9876543210" } }]),
      "1 object drifted: Deployment shop/web taken over by shop/ferry-staging-9876543210",
    );
    const removed: Drift = { kind: "drifted", fields: [{ path: "metadata.labels.team", desired: '"checkout"' }] };
    assert.equal(
      summarizeDrift([{ ref: web, drift: removed }]),
      '1 object drifted: Deployment shop/web metadata.labels.team "checkout"→(removed)',
    );
  });

  it("stays under 140 characters, cutting values first, then the path from its start", () => {
    const field = {
      path: "spec.template.spec.containers[name=web-frontend-with-a-long-name].env[name=FEATURE_FLAGS_FOR_CHECKOUT].value",
      desired: '"registry.example/shop/web:1.4.2"',
      live: '"registry.example/shop/web:1.4.3-hotfix"',
      manager: "kubectl-client-side-apply",
    };
    const line = summarizeDrift([
      { ref: { ...web, name: "web-frontend" }, drift: { kind: "drifted", fields: [field] } },
    ]);
    assert.ok(line !== undefined && line.length <= SUMMARY_LENGTH, line);
    assert.ok(line.startsWith("1 object drifted: Deployment shop/web-frontend …"), line);
    assert.ok(
      line.endsWith('[name=FEATURE_FLAGS_FOR_CHECKOUT].value "registry…→"registry… by kubectl-client-side-apply'),
      line,
    );

    const short = summarizeDrift([
      {
        ref: web,
        drift: { kind: "drifted", fields: [{ ...field, path: "spec.template.spec.containers[name=web].image" }] },
      },
    ]);
    assert.equal(
      short,
      '1 object drifted: Deployment shop/web spec.template.spec.containers[name=web].image "registry.e…→"registry.e… by kubectl-client-side-apply',
    );
    assert.ok(short.length <= SUMMARY_LENGTH);

    const huge = summarizeDrift([{ ref: { ...web, name: "x".repeat(253) }, drift: scaled }]);
    assert.equal(huge?.length, SUMMARY_LENGTH);
  });
});
