import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { diffObjects, objectsEqual } from "./diff-objects.js";

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

function deployment(
  name: string,
  change: { image?: string; replicas?: number; server?: boolean } = {},
): Record<string, unknown> {
  const server = change.server
    ? {
        uid: "7c1e",
        resourceVersion: "4711",
        generation: 9,
        creationTimestamp: "2025-01-01T00:00:00Z",
        managedFields: [{ manager: "ferry", operation: "Apply" }],
      }
    : {};
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "shop", labels: { app: name }, ...server },
    spec: {
      replicas: change.replicas ?? 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: "web",
              image: change.image ?? "shop/web:1.4.0",
              ports: [{ containerPort: 8080, name: "http" }],
              env: Array.from({ length: 8 }, (_, i) => ({ name: `SETTING_${i}`, value: `value-${i}` })),
              resources: { limits: { cpu: "500m", memory: "256Mi" }, requests: { cpu: "100m", memory: "128Mi" } },
            },
          ],
        },
      },
    },
    ...(change.server ? { status: { availableReplicas: 2, observedGeneration: 9 } } : {}),
  };
}

function secret(data: Record<string, string>): Record<string, unknown> {
  return { apiVersion: "v1", kind: "Secret", metadata: { name: "web-env", namespace: "shop" }, data };
}

describe("diffObjects", () => {
  it("shows an update as the changed lines with three lines of context", () => {
    const diff = diffObjects(deployment("web", { server: true }), deployment("web", { replicas: 3 }));
    assert.equal(
      diff,
      [
        "   name: web",
        "   namespace: shop",
        " spec:",
        "-  replicas: 2",
        "+  replicas: 3",
        "   selector:",
        "     matchLabels:",
        "       app: web",
      ].join("\n"),
    );
  });

  it("separates distant changes with @@ hunk headers and has no file headers", () => {
    const diff = diffObjects(deployment("web"), deployment("web", { replicas: 3, image: "shop/web:1.5.0" }));
    const lines = diff.split("\n");
    assert.ok(lines.includes("-  replicas: 2") && lines.includes("+  replicas: 3"));
    assert.ok(lines.includes("-          image: shop/web:1.4.0") && lines.includes("+          image: shop/web:1.5.0"));
    assert.equal(lines.filter((l) => l.startsWith("@@")).length, 1);
    assert.match(lines.find((l) => l.startsWith("@@")) ?? "", /^@@ -\d+,\d+ \+\d+,\d+ @@$/);
    assert.ok(!lines[0]?.startsWith("@@"));
    for (const line of lines) assert.match(line, /^[ +-]|^@@ /);
    assert.ok(!diff.includes("---") && !diff.includes("+++") && !diff.includes("No newline"));
  });

  it("shows a create as all additions and a delete as all removals", () => {
    const created = diffObjects(undefined, deployment("web"));
    assert.ok(created.split("\n").every((l) => l.startsWith("+")));
    assert.ok(created.startsWith("+apiVersion: apps/v1\n+kind: Deployment\n"));
    const deleted = diffObjects(deployment("web", { server: true }), undefined);
    assert.ok(deleted.split("\n").every((l) => l.startsWith("-")));
    assert.equal(deleted, created.replace(/^\+/gm, "-"));
    assert.equal(diffObjects(undefined, undefined), "");
  });

  it("ignores the fields the server fills in", () => {
    assert.equal(diffObjects(deployment("web", { server: true }), deployment("web")), "");
    assert.ok(objectsEqual(deployment("web", { server: true }), deployment("web")));
    assert.ok(!objectsEqual(deployment("web"), deployment("web", { replicas: 3 })));
    assert.ok(!objectsEqual(undefined, deployment("web")));
    assert.ok(objectsEqual(undefined, undefined));
  });

  it("does not fold long strings", () => {
    const long = "x".repeat(300);
    const diff = diffObjects(undefined, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "c" },
      data: { long: `${long} ${long}` },
    });
    assert.ok(diff.includes(`+  long: ${long} ${long}`));
  });

  it("shows a Secret value change as (hidden, changed) and neither value", () => {
    const oldValue = "old-password-123";
    const newValue = "new-password-456";
    const diff = diffObjects(
      secret({ TOKEN: b64(oldValue), KEPT: b64("kept-value") }),
      secret({ TOKEN: b64(newValue), KEPT: b64("kept-value") }),
    );
    assert.ok(diff.includes("-  TOKEN: (hidden)\n+  TOKEN: (hidden, changed)"), diff);
    assert.ok(diff.includes("   KEPT: (hidden)"));
    for (const value of [oldValue, newValue, "kept-value"]) {
      assert.ok(!diff.includes(value) && !diff.includes(b64(value)));
    }
    assert.ok(objectsEqual(secret({ TOKEN: b64(oldValue) }), { ...secret({}), stringData: { TOKEN: oldValue } }));
    assert.ok(!objectsEqual(secret({ TOKEN: b64(oldValue) }), secret({ TOKEN: b64(newValue) })));
  });

  it("falls back to one replaced block when a huge object is rewritten end to end", () => {
    const map = (n: number, tag: string) => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "big" },
      data: Object.fromEntries(Array.from({ length: n }, (_, k) => [`k${k}`, `${tag}${k}`])),
    });
    const lines = diffObjects(map(20_000, "a"), map(20_000, "b")).split("\n");
    assert.equal(lines.filter((l) => l.startsWith("-")).length, 20_000);
    assert.equal(lines.filter((l) => l.startsWith("+")).length, 20_000);
    assert.deepEqual(lines.slice(0, 2), [" apiVersion: v1", " data:"]);
    assert.equal(lines[2], "-  k0: a0");
    assert.deepEqual(lines.slice(-3), [" kind: ConfigMap", " metadata:", "   name: big"]);
  });

  it("diffs 1,000 typical Deployments quickly", () => {
    const pairs = Array.from(
      { length: 1_000 },
      (_, i) =>
        [deployment(`web-${i}`, { server: true }), deployment(`web-${i}`, { image: "shop/web:1.5.0" })] as const,
    );
    const started = performance.now();
    const diffs = pairs.map(([live, next]) => diffObjects(live, next));
    const took = performance.now() - started;
    console.log(`1,000 Deployment diffs took ${took.toFixed(0)} ms`);
    for (const diff of diffs) assert.ok(diff.includes("+          image: shop/web:1.5.0"));
  });
});
