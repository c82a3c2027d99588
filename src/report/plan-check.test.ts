import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { EnvironmentPlan } from "../plan/types.js";
import { CHECK_OUTPUT_LENGTH, failedCheck, planCheck, planConclusion } from "./plan-check.js";

const sha = "3f2a9c1d000000000000000000000000000000aa";
const plan = (over: Partial<EnvironmentPlan> = {}): EnvironmentPlan => ({
  environment: "staging",
  cluster: "staging",
  sha,
  objects: [],
  counts: { create: 0, update: 0, delete: 0, unchanged: 3 },
  ...over,
});
const update = (name: string, diff: string) => ({
  ref: { apiVersion: "v1", kind: "ConfigMap", namespace: "shop", name },
  action: "update" as const,
  source: `deploy/${name}.yaml`,
  diff,
});

describe("planCheck", () => {
  it("concludes neutral without changes, success with changes, failure on any error", () => {
    assert.equal(planConclusion([plan()]), "neutral");
    assert.equal(planConclusion([plan({ counts: { create: 1, update: 0, delete: 0, unchanged: 0 } })]), "success");
    assert.equal(planConclusion([plan(), plan({ error: "boom" })]), "failure");
  });

  it("puts the table in the summary and the diffs in the text, cut to GitHub's 65,535 characters", () => {
    const big = Array.from({ length: 3 }, (_, i) => update(`cm${i}`, `-  v: old\n+  v: ${"x".repeat(40_000)}`));
    const check = planCheck({
      sha,
      plans: [plan({ objects: big, counts: { create: 0, update: 3, delete: 0, unchanged: 0 } })],
      title: "+0 ~3 −0 (0 unchanged)",
      fullPlanUrl: "https://ferry.example.com/plans/p1",
      plannedAt: new Date("2026-12-06T12:04:00Z"),
      annotations: [],
    });
    assert.equal(check.conclusion, "success");
    assert.match(check.summary, /\| staging \| staging \| 0 \| 3 \| 0 \| 3 to change \|/);
    assert.match(check.summary, /Full plan: https:\/\/ferry\.example\.com\/plans\/p1/);
    assert.ok((check.text ?? "").length <= CHECK_OUTPUT_LENGTH, `text is ${check.text?.length}`);
    assert.match(check.text ?? "", /diffs? left out of this comment.*https:\/\/ferry\.example\.com\/plans\/p1/);
    assert.doesNotMatch(check.text ?? "", /ferry:plan -->/, "no comment marker in a check");
    assert.equal(check.detailsUrl, "https://ferry.example.com/plans/p1");
  });

  it("a check that failed before planning quotes the error and counts its annotations", () => {
    const check = failedCheck({
      title: ".ferry.yml:8:24: environments.0.cluster: Required",
      error: ".ferry.yml:8:24: environments.0.cluster: Required",
      annotations: [{ path: ".ferry.yml", startLine: 8, endLine: 8, level: "failure", message: "Required" }],
    });
    assert.equal(check.conclusion, "failure");
    assert.match(check.summary, /1 annotation/);
    assert.match(check.summary, /```\n\.ferry\.yml:8:24/);
  });
});
