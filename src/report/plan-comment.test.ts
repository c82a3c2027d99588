import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ObjectRef } from "../kube/object-ref.js";
import type { EnvironmentPlan, ObjectPlan } from "../plan/types.js";
import { fullPlanText, PLAN_MARKER, planComment, planStatusDescription } from "./plan-comment.js";

const sha = "3f2a9c1d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b";
const url = "https://ferry.example.com/plans/3f2a9c1";
const GITHUB = 65_536;

const web: ObjectRef = { apiVersion: "apps/v1", kind: "Deployment", namespace: "shop", name: "web" };
const env: ObjectRef = { apiVersion: "v1", kind: "Secret", namespace: "shop", name: "web-env" };
const old: ObjectRef = { apiVersion: "v1", kind: "ConfigMap", namespace: "shop", name: "old" };
const ns: ObjectRef = { apiVersion: "v1", kind: "Namespace", name: "shop" };

const webDiff = [" spec:", "-  replicas: 2", "+  replicas: 3", "   template:"].join("\n");

function plan(environment: string, objects: ObjectPlan[], extra: Partial<EnvironmentPlan> = {}): EnvironmentPlan {
  const count = (action: ObjectPlan["action"]) => objects.filter((o) => o.action === action).length;
  return {
    environment,
    cluster: environment === "production" ? "prod-eu" : environment,
    sha,
    objects,
    counts: { create: count("create"), update: count("update"), delete: count("delete"), unchanged: 7 },
    ...extra,
  };
}

const staging = plan("staging", [
  {
    ref: ns,
    action: "create",
    source: "deploy/ns.yaml",
    diff: "+apiVersion: v1\n+kind: Namespace\n+metadata:\n+  name: shop",
  },
  { ref: web, action: "update", source: "deploy/web.yaml", diff: webDiff },
  {
    ref: env,
    action: "update",
    source: "deploy/env.yaml",
    diff: " data:\n-  TOKEN: (hidden)\n+  TOKEN: (hidden, changed)",
  },
  { ref: old, action: "delete", diff: "-apiVersion: v1\n-kind: ConfigMap" },
]);
const production = plan("production", []);
const failed = plan("canary", [], {
  error:
    "render failed: deploy/canary/app.yaml#2: spec.replicas must be a number\n  at line 14, column 13\n  (from the Kustomize build)",
});

/** A diff of `lines` changed lines, each `width` characters. */
function bigDiff(lines: number, width = 60): string {
  return Array.from({ length: lines }, (_, i) => `+  key-${i}: ${"v".repeat(width)}`).join("\n");
}

function manyObjects(n: number, diffLines: number): ObjectPlan[] {
  return Array.from({ length: n }, (_, i) => ({
    ref: { apiVersion: "v1", kind: "ConfigMap", namespace: "shop", name: `config-${String(i).padStart(4, "0")}` },
    action: "update" as const,
    diff: bigDiff(diffLines + (i % 7)),
  }));
}

describe("planStatusDescription", () => {
  it("counts creates, updates, deletes and unchanged objects", () => {
    assert.equal(planStatusDescription(staging), "+1 ~2 −1 (7 unchanged)");
    assert.equal(planStatusDescription(production), "+0 ~0 −0 (7 unchanged)");
  });

  it("gives the first line of an error, within GitHub's 140 characters", () => {
    assert.equal(
      planStatusDescription(failed),
      "failed: render failed: deploy/canary/app.yaml#2: spec.replicas must be a number",
    );
    const long = planStatusDescription(plan("x", [], { error: "e".repeat(500) }));
    assert.equal(long.length, 140);
    assert.ok(long.endsWith("…"));
  });
});

describe("planComment", () => {
  const comment = planComment({ sha, plans: [staging, production, failed], fullPlanUrl: url, maxLength: GITHUB });

  it("says under the heading what each environment was planned against, and when", () => {
    const released = { ...staging, releasedSha: "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d" };
    const body = planComment({
      sha,
      plans: [released, production, { ...released, cluster: "other" }],
      maxLength: GITHUB,
      plannedAt: new Date("2026-12-06T12:04:31Z"),
    });
    assert.equal(
      body.split("\n")[2],
      "<sub>planned against staging at `9e8d7c6`, production never released · 12:04 UTC</sub>",
    );
    assert.ok(!comment.includes("planned against"), "no line without a planning time");
  });

  it("starts with the marker and heading, then the summary table", () => {
    const lines = comment.split("\n");
    assert.equal(lines[0], PLAN_MARKER);
    assert.equal(lines[1], "### Ferry plan · `3f2a9c1`");
    assert.ok(comment.includes("| environment | cluster | + | ~ | − | result |"));
    assert.ok(comment.includes("| staging | staging | 1 | 2 | 1 | 4 to change |"));
    assert.ok(comment.includes("| production | prod-eu | 0 | 0 | 0 | no changes |"));
    assert.ok(
      comment.includes(
        "| canary | canary | | | | ❌ render failed: deploy/canary/app.yaml#2: spec.replicas must be a number |",
      ),
    );
  });

  it("shows each failed environment's whole error in a code block", () => {
    assert.ok(comment.includes(`**canary**: the plan failed`));
    assert.ok(comment.includes(`\`\`\`\n${failed.error ?? ""}\n\`\`\``));
  });

  it("has one collapsible diff per changed object, with its action and hidden Secret values", () => {
    assert.ok(
      comment.includes(
        `<details><summary>staging · ~ Deployment shop/web</summary>\n\n\`\`\`diff\n${webDiff}\n\`\`\`\n</details>`,
      ),
    );
    assert.ok(comment.includes("<summary>staging · + Namespace shop</summary>"));
    assert.ok(comment.includes("<summary>staging · ~ Secret shop/web-env (values hidden)</summary>"));
    assert.ok(comment.includes("<summary>staging · − ConfigMap shop/old</summary>"));
    assert.equal(comment.match(/<details>/g)?.length, 4);
    assert.ok(comment.indexOf("Namespace shop") < comment.indexOf("Deployment shop/web"));
  });

  it("counts unchanged objects and links the full plan in the footer", () => {
    assert.ok(comment.endsWith(`<sub>21 objects unchanged · full plan: ${url}</sub>`));
    assert.ok(!comment.includes("left out"));
  });

  it("shows a note, such as a configuration error, under the heading", () => {
    const note =
      "ferry.yaml: environments.staging.cluster: required\nferry.yaml: environments.prod.path: must be a directory";
    const text = planComment({ sha, plans: [], maxLength: GITHUB, note });
    assert.ok(text.startsWith(`${PLAN_MARKER}\n### Ferry plan · \`3f2a9c1\`\n\n\`\`\`\n${note}\n\`\`\``));
  });

  it("uses a longer fence when a diff holds one", () => {
    const diff = " data:\n   README.md: |\n     ```\n-    old\n+    new\n     ```";
    const text = planComment({
      sha,
      plans: [plan("staging", [{ ref: old, action: "update", diff }])],
      maxLength: GITHUB,
    });
    assert.ok(text.includes(`\`\`\`\`diff\n${diff}\n\`\`\`\`\n</details>`));
  });

  it("cuts a 2 MB diff, keeps the others whole, and says what it left out", () => {
    const huge = bigDiff(30_000);
    assert.ok(huge.length > 2_000_000);
    const plans = [plan("staging", [{ ref: web, action: "update", diff: huge }, ...staging.objects.slice(2)])];
    const text = planComment({ sha, plans, fullPlanUrl: url, maxLength: GITHUB });
    assert.ok(text.length <= GITHUB);
    assert.ok(
      text.includes(
        "<details><summary>staging · ~ Deployment shop/web</summary>\n\ndiff too large for this comment (30000 lines): see the full plan\n</details>",
      ),
    );
    assert.ok(text.includes(`1 diff left out of this comment; the full plan has it: ${url}`));
    assert.ok(text.includes("+  TOKEN: (hidden, changed)"));
    assert.ok(text.includes("-kind: ConfigMap"));
  });

  it("stays within the limit with 5,000 changed objects, dropping sections and saying so", () => {
    const plans = [plan("staging", manyObjects(5_000, 20))];
    const text = planComment({ sha, plans, fullPlanUrl: url, maxLength: GITHUB });
    assert.ok(text.length <= GITHUB, `${text.length}`);
    assert.match(
      text,
      /⚠️ 5000 diffs left out of this comment \(\d+ of them with their objects not listed\); the full plan has them: https:\/\/ferry\.example\.com\/plans\/3f2a9c1/,
    );
    assert.ok(text.includes("| staging | staging | 0 | 5000 | 0 | 5000 to change |"));
    assert.ok(text.includes("diff too large for this comment"));
    assert.ok(text.length > GITHUB * 0.9, "it uses the room it has");
  });

  it("fits GitLab's larger limit with more of the diffs", () => {
    const plans = [plan("staging", manyObjects(5_000, 20))];
    const gitlab = planComment({ sha, plans, fullPlanUrl: url, maxLength: 1_000_000 });
    assert.ok(gitlab.length <= 1_000_000);
    assert.ok(
      (gitlab.match(/```diff/g)?.length ?? 0) >
        (planComment({ sha, plans, fullPlanUrl: url, maxLength: GITHUB }).match(/```diff/g)?.length ?? 0),
    );
  });

  it("shortens a huge error and never exceeds even a tiny limit", () => {
    const plans = [
      plan("staging", [], { error: `boom\n${"x".repeat(2_000_000)}` }),
      plan("production", manyObjects(10, 5)),
    ];
    const text = planComment({ sha, plans, fullPlanUrl: url, maxLength: GITHUB });
    assert.ok(text.length <= GITHUB);
    assert.ok(text.includes("1 message shortened"));
    assert.ok(text.includes("(error cut: the full plan has all of it)"));
    assert.equal(text.match(/```diff/g)?.length, 10, "the diffs stay");
    assert.ok(!text.includes("diffs left out"));
    for (const max of [0, 10, 100, 500, 2_000])
      assert.ok(planComment({ sha, plans, fullPlanUrl: url, maxLength: max }).length <= max, `${max}`);
  });

  it("is deterministic", () => {
    const plans = [staging, plan("production", manyObjects(3_000, 30)), failed];
    const a = planComment({ sha, plans, fullPlanUrl: url, maxLength: GITHUB });
    const b = planComment({ sha, plans: structuredClone(plans), fullPlanUrl: url, maxLength: GITHUB });
    assert.equal(a, b);
  });
});

describe("a plan with objects not dry-run", () => {
  const audited = plan("staging", [
    {
      ref: old,
      action: "create",
      source: "deploy/old.yaml",
      diff: "+kind: ConfigMap",
      notDryRunBy: "audit.example.com",
    },
    { ref: web, action: "update", source: "deploy/web.yaml", diff: "", notDryRunBy: "audit.example.com" },
    { ref: env, action: "update", source: "deploy/env.yaml", diff: " data:\n+  TOKEN: (hidden, added)" },
  ]);
  const why =
    'not dry-run: admission webhook "audit.example.com" does not support dry run, so the server did not validate this object; a release applies it unvalidated (validation.unsupportedDryRun: skip)';

  it("counts them in the status and the table", () => {
    assert.equal(planStatusDescription(audited), "+1 ~2 −0 (7 unchanged); 2 not dry-run");
    assert.ok(
      planComment({ sha, plans: [audited], maxLength: GITHUB }).includes(
        "| staging | staging | 1 | 2 | 0 | 3 to change, ⚠️ 2 not dry-run |",
      ),
    );
  });

  it("says in each one's section which webhook kept it from a dry-run, and that an update has no diff without one", () => {
    const text = planComment({ sha, plans: [audited], maxLength: GITHUB });
    assert.ok(
      text.includes(
        `<details><summary>staging · + ConfigMap shop/old ⚠️ not dry-run</summary>\n\n> ⚠️ ${why}\n\n\`\`\`diff\n+kind: ConfigMap\n\`\`\`\n</details>`,
      ),
      text,
    );
    assert.ok(
      text.includes(
        `<details><summary>staging · ~ Deployment shop/web ⚠️ not dry-run</summary>\n\n> ⚠️ ${why}; without a dry-run the server cannot say what this update changes\n</details>`,
      ),
      text,
    );
    assert.ok(text.includes("<details><summary>staging · ~ Secret shop/web-env (values hidden)</summary>\n\n```diff"));
    const full = fullPlanText({ sha, plans: [audited] });
    assert.ok(full.includes(`~ Deployment shop/web from deploy/web.yaml\n${why}\n`), full);
  });
});

describe("a plan with notes", () => {
  const noted: EnvironmentPlan = {
    ...plan("staging", []),
    notes: ["prune is off for staging: ConfigMap shop/old no longer in Git stays on the cluster"],
  };

  it("shows them under the table and in the full plan", () => {
    const text = planComment({ sha, plans: [noted], maxLength: GITHUB });
    assert.ok(
      text.includes(
        "> ℹ️ **staging** (staging): prune is off for staging: ConfigMap shop/old no longer in Git stays on the cluster",
      ),
      text,
    );
    const full = fullPlanText({ sha, plans: [noted] });
    assert.ok(
      full.includes("== staging (cluster staging): +0 ~0 −0 (7 unchanged)\nnote: prune is off for staging"),
      full,
    );
  });
});

describe("a plan made with credentials that may not write", () => {
  const denied =
    'configmaps "old" is forbidden: User "system:serviceaccount:ci:viewer" cannot create resource "configmaps" in API group "" in the namespace "shop"';
  const readOnly = plan("staging", [
    { ref: old, action: "create", source: "deploy/old.yaml", diff: "+kind: ConfigMap", dryRunForbidden: denied },
    {
      ref: web,
      action: "update",
      source: "deploy/web.yaml",
      diff: "-  replicas: 2\n+  replicas: 3",
      dryRunForbidden: denied,
    },
  ]);

  it("counts the objects not dry-run, says why in each section, and what an update's diff is", () => {
    assert.equal(planStatusDescription(readOnly), "+1 ~1 −0 (7 unchanged); 2 not dry-run");
    const text = planComment({ sha, plans: [readOnly], maxLength: GITHUB });
    assert.ok(text.includes("<details><summary>staging · + ConfigMap shop/old ⚠️ not dry-run</summary>"), text);
    assert.ok(
      text.includes(
        "Kubernetes authorizes a dry-run as the write it simulates, so these credentials cannot validate this object",
      ),
      text,
    );
    assert.ok(text.includes("the diff compares the live object with what the manifest sets, field by field"), text);
    const full = fullPlanText({ sha, plans: [readOnly] });
    assert.ok(
      full.includes(
        `+ ConfigMap shop/old from deploy/old.yaml\nnot dry-run: the server refused the dry-run (${denied})`,
      ),
      full,
    );
  });
});

describe("fullPlanText", () => {
  it("holds every diff whole and every error", () => {
    const huge = bigDiff(30_000);
    const text = fullPlanText({
      sha,
      plans: [plan("staging", [{ ref: web, action: "update", source: "deploy/web.yaml", diff: huge }]), failed],
    });
    assert.ok(text.startsWith(`Ferry plan of ${sha}\n`));
    assert.ok(text.includes(`~ Deployment shop/web from deploy/web.yaml\n${huge}\n`));
    assert.ok(text.includes("== canary (cluster canary): +0 ~0 −0 (7 unchanged)"));
    assert.ok(text.includes(failed.error ?? "?"));
  });
});
