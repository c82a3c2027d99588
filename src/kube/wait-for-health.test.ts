import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Health } from "./health/index.js";
import type { ObjectRef } from "./object-ref.js";
import { describeProgress, settle } from "./wait-for-health.js";

const up: Health = { status: "current", message: "1/1 replicas available" };
const waiting: Health = { status: "in-progress", message: "0/1 replicas available" };
const paused: Health = { status: "suspended", message: "paused: not rolled out until resumed" };
const deployment = (name: string): ObjectRef => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  namespace: "shop",
  name,
});

describe("describeProgress", () => {
  it("counts, per kind with objects still in progress, how many are up", () => {
    const text = describeProgress([
      { ref: deployment("web"), health: up },
      { ref: deployment("api"), health: up },
      { ref: deployment("worker"), health: waiting },
      {
        ref: { apiVersion: "batch/v1", kind: "Job", namespace: "shop", name: "migrate" },
        health: { status: "in-progress", message: "0/1 pods succeeded" },
      },
      { ref: { apiVersion: "v1", kind: "Service", namespace: "shop", name: "web" }, health: up },
    ]);
    assert.equal(text, "waiting: 2/3 Deployments available, 0/1 Job complete");
  });

  it("puts kinds in their plural as English does", () => {
    const policies = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        ref: { apiVersion: "example.com/v1", kind: "NetworkPolicy", name: `p${i}` },
        health: waiting,
      }));
    assert.equal(describeProgress(policies(2)), "waiting: 0/2 NetworkPolicies ready");
    const ingresses = [0, 1].map((i) => ({
      ref: { apiVersion: "example.com/v1", kind: "Ingress", name: `i${i}` },
      health: waiting,
    }));
    assert.equal(describeProgress(ingresses), "waiting: 0/2 Ingresses ready");
  });

  it("counts a suspended object apart: not up, not waited for", () => {
    const text = describeProgress([
      { ref: deployment("web"), health: up },
      { ref: deployment("api"), health: paused },
      { ref: deployment("worker"), health: waiting },
    ]);
    assert.equal(text, "waiting: 1/3 Deployments available (1 suspended)");
    assert.equal(
      describeProgress([
        { ref: deployment("api"), health: paused },
        { ref: { apiVersion: "batch/v1", kind: "Job", name: "m" }, health: waiting },
      ]),
      "waiting: 0/1 Job complete",
    );
  });
});

describe("settle", () => {
  it("is healthy once nothing is in progress, naming the suspended objects", () => {
    const held = { ref: deployment("api"), health: paused };
    assert.deepEqual(settle([{ ref: deployment("web"), health: up }, held]), { kind: "healthy", suspended: [held] });
    assert.deepEqual(settle([held]), { kind: "healthy", suspended: [held] });
    assert.deepEqual(settle([{ ref: deployment("web"), health: up }]), { kind: "healthy", suspended: [] });
  });

  it("waits while one is in progress, and fails as soon as one failed", () => {
    const pending = { ref: deployment("worker"), health: waiting };
    const broken = {
      ref: deployment("web"),
      health: { status: "failed", message: "timed out", reason: "ProgressDeadlineExceeded" } satisfies Health,
    };
    assert.deepEqual(settle([{ ref: deployment("api"), health: paused }, pending]), {
      kind: "waiting",
      pending: [pending],
    });
    assert.deepEqual(settle([pending, broken]), { kind: "failed", failed: [broken] });
  });
});
